/**
 * One verify run: builds the clients from the stack model (published ports, or forwarded ones), sends this run's
 * telemetry, runs the checks, and prints the checklist, the Explore links and the wait that dominated. Used by
 * `mop-sandbox verify` and `up --verify`.
 */
import { GrafanaClient } from '../clients/grafana.js';
import { HttpClient, basicAuth, type FetchLike } from '../clients/http.js';
import { LokiClient } from '../clients/loki.js';
import { MimirClient } from '../clients/mimir.js';
import { TempoClient } from '../clients/tempo.js';
import type { Credentials } from '../lib/state.js';
import type { Output } from '../lib/output.js';
import { VERIFY_METRICS, VERIFY_NAMESPACE, verifyTelemetry, type VerifyTelemetry } from '../otlp/verify-telemetry.js';
import { uiUrl } from '../stack/urls.js';
import { component, ports as modelPorts, type ComponentName, type Stack } from '../stack/model.js';
import { provisionedDashboards, provisionedDatasources } from '../stack/provisioning.js';
import { stages, type CheckResult, type Clock, type VerifyClients } from './check.js';
import { runHistogramSelector, verifyChecks } from './checks.js';
import { dominantWait, realClock, runChecks } from './runner.js';

export interface VerifyOptions {
  stack: Stack;
  credentials: Credentials;
  out: Output;
  signal: AbortSignal;
  /** Overall limit (default 120 s). */
  timeoutMs?: number;
  /** Local ports from `--port-forward`: `${component}:${containerPort}` → port. */
  forwarded?: Map<string, number>;
  clock?: Clock;
  fetch?: FetchLike;
  /** Retry interval (tests). */
  intervalMs?: number;
  /** The run's telemetry (tests pin it); generated from the clock otherwise. */
  telemetry?: VerifyTelemetry;
}

export interface VerifyReport {
  ok: boolean;
  runId: string;
  traceId: string;
  seconds: number;
  checks: CheckResult[];
  failed: string[];
  links: { trace: string; logs: string; metric: string };
  dominantWait?: { check: string; seconds: number; reason: string };
}

const hostOf = (ip: string) => (ip === '0.0.0.0' ? '127.0.0.1' : ip.includes(':') ? `[${ip}]` : ip);

/** The base URL of a component's container port, as reached from this machine. */
export function endpoint(stack: Stack, name: ComponentName, containerPort: number, forwarded?: Map<string, number>): string | undefined {
  const f = forwarded?.get(`${name}:${containerPort}`);
  if (f) return `http://127.0.0.1:${f}`;
  const p = stack.published.find((x) => x.component === name && x.containerPort === containerPort);
  return p ? `http://${hostOf(p.hostIp)}:${p.hostPort}` : undefined;
}

/** Every (component, port) verify talks to: readiness endpoints, the backends' APIs, Alloy's OTLP/HTTP. */
export function verifyTargets(stack: Stack): { component: ComponentName; port: number }[] {
  const t = stack.components.filter((c) => c.readiness).map((c) => ({ component: c.name, port: c.readiness!.port }));
  t.push({ component: 'alloy', port: modelPorts.alloy.otlpHttp });
  const seen = new Set<string>();
  return t.filter((x) => !seen.has(`${x.component}:${x.port}`) && seen.add(`${x.component}:${x.port}`));
}

export function verifyClients(stack: Stack, credentials: Credentials, signal: AbortSignal, forwarded?: Map<string, number>, fetch?: FetchLike): VerifyClients {
  const tenant: Record<string, string> = stack.multitenancy ? { 'X-Scope-OrgID': stack.tenant } : {};
  const http = (name: ComponentName, port: number, headers: Record<string, string> = {}) =>
    new HttpClient({ baseUrl: endpoint(stack, name, port, forwarded) ?? `http://unpublished-${name}:${port}`, headers, signal, fetch });
  const grafanaUser = String(component(stack, 'grafana')?.env.GF_SECURITY_ADMIN_USER ?? 'admin');
  return {
    grafana: new GrafanaClient(http('grafana', modelPorts.grafana.http, { authorization: basicAuth(grafanaUser, credentials.GRAFANA_ADMIN_PASSWORD) })),
    tempo: new TempoClient(http('tempo', modelPorts.tempo.http, tenant)),
    loki: new LokiClient(http('loki', modelPorts.loki.http, tenant)),
    mimir: new MimirClient(http('mimir', modelPorts.mimir.http, tenant)),
    otlp: http('alloy', modelPorts.alloy.otlpHttp),
    readiness(name) {
      const c = component(stack, name);
      if (!c?.readiness || !endpoint(stack, name, c.readiness.port, forwarded)) return undefined;
      return http(name, c.readiness.port);
    },
  };
}

export async function runVerify(opts: VerifyOptions): Promise<VerifyReport> {
  const clock = opts.clock ?? realClock;
  const { stack, out } = opts;
  const began = clock.now();
  const clients = verifyClients(stack, opts.credentials, opts.signal, opts.forwarded, opts.fetch);
  const telemetry = opts.telemetry ?? verifyTelemetry(began);
  const provisioned = { datasources: provisionedDatasources(stack), dashboards: provisionedDashboards() };
  const checks = verifyChecks({ stack, provisioned });
  const order = stages.flatMap((s) => checks.filter((c) => c.stage === s));
  const width = Math.max(...stages.map((s) => s.length));
  out.info(`verify run ${telemetry.runId}: trace ${telemetry.traceId}, service.namespace=${VERIFY_NAMESPACE}`);
  const lines = out.group(order.map((c) => `${c.stage.padEnd(width)}  ${c.title}`));
  const index = new Map(order.map((c, i) => [c.id, i]));
  const results = await runChecks({
    checks: order,
    ctx: { stack, clients, telemetry, clock, signal: opts.signal, provisioned },
    deadline: began + (opts.timeoutMs ?? 120_000),
    intervalMs: opts.intervalMs,
    onEnd(r) {
      const line = lines[index.get(r.id)!];
      const text = `${r.seconds.toFixed(1)}s  ${r.detail}`;
      if (r.status === 'pass') line.ok(text);
      else if (r.status === 'skip') line.fail(`- ${r.detail}`);
      else line.fail(text);
    },
  });
  const seconds = (clock.now() - began) / 1000;
  const failed = results.filter((r) => r.status === 'fail').map((r) => r.id);
  // Links a person opens later: on Grafana's published URL, not on a port-forward that ends with this run.
  const uidOf = (type: string) => provisioned.datasources.find((d) => d.type === type)?.uid ?? '';
  const at = uiUrl(stack, 'grafana');
  const links = {
    trace: clients.grafana.exploreUrl(uidOf('tempo'), { queryType: 'traceql', query: telemetry.traceId }, at),
    logs: clients.grafana.exploreUrl(uidOf('loki'), { expr: `{service_namespace="${VERIFY_NAMESPACE}"} | trace_id="${telemetry.traceId}"` }, at),
    metric: clients.grafana.exploreUrl(uidOf('prometheus'), { expr: `histogram_quantile(0.95, sum by (le) (rate(${runHistogramSelector(telemetry.runId)}[5m])))`, exemplar: true }, at),
  };
  const wait = dominantWait(results);
  const report: VerifyReport = {
    ok: failed.length === 0,
    runId: telemetry.runId,
    traceId: telemetry.traceId,
    seconds,
    checks: results,
    failed,
    links,
    ...(wait?.wait ? { dominantWait: { check: wait.id, seconds: wait.seconds, reason: wait.wait } } : {}),
  };

  const passed = results.filter((r) => r.status === 'pass').length;
  const skipped = results.filter((r) => r.status === 'skip').length;
  out.info('');
  out.info(
    report.ok
      ? `verify passed: ${passed} checks in ${seconds.toFixed(1)}s`
      : `verify FAILED: ${failed.length} failed (${failed.join(', ')}), ${skipped} skipped, ${passed} passed, in ${seconds.toFixed(1)}s`,
  );
  for (const r of results.filter((x) => x.status === 'fail')) out.info(`  ✗ ${r.id}: ${r.detail}`);
  out.info(wait ? `the wait that dominated: ${wait.id} ${wait.seconds.toFixed(1)}s (${wait.wait})` : 'no backend-imposed wait: everything was there on the first try');
  out.info('');
  out.info('Open in Grafana:');
  out.info(`  the trace    ${links.trace}`);
  out.info(`  its logs     ${links.logs}`);
  out.info(`  the metric   ${links.metric} (${VERIFY_METRICS.histogram.prometheus}, exemplars on)`);
  return report;
}
