/**
 * What a verify check is: a small named object (what it needs, how it runs, how long it may keep trying). The
 * human checklist, --json and the e2e suite all read the same list (checks.ts).
 */
import type { GrafanaClient } from '../clients/grafana.js';
import type { HttpClient } from '../clients/http.js';
import type { LokiClient } from '../clients/loki.js';
import type { MimirClient } from '../clients/mimir.js';
import type { TempoClient } from '../clients/tempo.js';
import type { ComponentName, Stack } from '../stack/model.js';
import type { VerifyTelemetry } from '../otlp/verify-telemetry.js';
import type { ProvisionedDatasource } from '../stack/provisioning.js';

export type Stage = 'availability' | 'send' | 'backends' | 'grafana' | 'correlation';
export const stages: Stage[] = ['availability', 'send', 'backends', 'grafana', 'correlation'];

export type Attempt =
  | { ok: true; detail: string; value?: unknown }
  /** Not (yet) there: retried until the check's timeout, unless `final`. */
  | { ok: false; expected: string; got: string; final?: boolean };

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface VerifyClients {
  grafana: GrafanaClient;
  tempo: TempoClient;
  loki: LokiClient;
  mimir: MimirClient;
  otlp: HttpClient;
  /** An HTTP client for a component's readiness endpoint. */
  readiness(component: ComponentName): HttpClient | undefined;
}

export interface VerifyContext {
  stack: Stack;
  clients: VerifyClients;
  telemetry: VerifyTelemetry;
  clock: Clock;
  signal: AbortSignal;
  provisioned: { datasources: ProvisionedDatasource[]; dashboards: { uid: string; title: string }[] };
  /** Values earlier checks returned, by check id. */
  value<T>(id: string): T;
}

export interface Check {
  id: string;
  stage: Stage;
  title: string;
  /** Ids of the checks that must pass first; when one fails, this one is skipped and says so. */
  needs: string[];
  /** How long to keep retrying (capped by --timeout). */
  timeoutMs: number;
  /** A wait the backend imposes (not verify's own time); named in the output when it dominates. */
  wait?: string;
  run(ctx: VerifyContext): Promise<Attempt>;
}

export interface CheckResult {
  id: string;
  stage: Stage;
  title: string;
  status: 'pass' | 'fail' | 'skip';
  seconds: number;
  attempts: number;
  detail: string;
  expected?: string;
  got?: string;
  wait?: string;
}
