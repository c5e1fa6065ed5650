/** Shared by the render tests: schemas, the unknown-field check, stack variants, temp dirs. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { PersistentVolumeClaim } from 'kubernetes-models/v1/PersistentVolumeClaim';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { buildStack, storeKinds, type StackOptions } from '../../scripts/stack/model.js';
import { profileNames } from '../../scripts/stack/profiles.js';
import type { Credentials } from '../../scripts/lib/state.js';

const require = createRequire(import.meta.url);

/** Every profile x every store, with OBI on (the largest stack), plus each profile as its defaults give it. */
export const variants: StackOptions[] = [
  ...profileNames.flatMap((profile) =>
    storeKinds.map((store) => ({ profile, store, s3Endpoint: store === 'external' ? 's3.example.com:443' : undefined, obi: true })),
  ),
  ...profileNames.map((profile) => ({ profile, s3Endpoint: profile === 'prod' ? 's3.example.com:443' : undefined })),
];
export const label = (o: StackOptions) => `${o.profile}/${o.store ?? 'profile store'}${o.obi ? '+obi' : ''}`;
export const stackOf = (o: StackOptions) => buildStack(o);

export const fakeCredentials: Credentials = {
  GRAFANA_ADMIN_PASSWORD: 'GrafanaPw1234567890abcdefXYZ',
  S3_ACCESS_KEY_ID: 'mopaccesskey12345678',
  S3_SECRET_ACCESS_KEY: 'S3SecretValue1234567890abcdefXY',
  DEMO_CONTROL_TOKEN: 'DemoControlToken1234567890abcdef',
  S3_TEMPO_ACCESS_KEY_ID: 'moptempokey123456789',
  S3_TEMPO_SECRET_ACCESS_KEY: 'TempoSecretValue1234567890abcde',
  S3_MIMIR_ACCESS_KEY_ID: 'mopmimirkey123456789',
  S3_MIMIR_SECRET_ACCESS_KEY: 'MimirSecretValue1234567890abcde',
  S3_LOKI_ACCESS_KEY_ID: 'moplokikey1234567890',
  S3_LOKI_SECRET_ACCESS_KEY: 'LokiSecretValue1234567890abcdef',
};

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), `mopr-${prefix}-`));

/** The compose-spec schema as dclint ships it (TOOLING.md §1). */
export function composeValidator() {
  const schema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas/compose.schema.json'), 'utf8'));
  schema.$schema = 'http://json-schema.org/draft-07/schema#';
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return (doc: unknown): string[] => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`));
}

/** Whether `docker compose` (v2) runs here; the reason when it does not. */
export function composeV2(): { ok: true } | { ok: false; why: string } {
  const r = spawnSync('docker', ['compose', 'version', '--short'], { encoding: 'utf8' });
  if (r.error) return { ok: false, why: `docker is not installed (${r.error.message})` };
  if (r.status !== 0) return { ok: false, why: `the docker compose v2 plugin is not installed: ${(r.stderr || r.stdout).trim().split('\n')[0]}` };
  return { ok: true };
}

const models: Record<string, new (data: any) => { validate(): void }> = {
  Namespace,
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  PersistentVolumeClaim,
  Deployment,
  StatefulSet,
  DaemonSet,
  Job,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  NetworkPolicy,
};

/** kubernetes-models validation (types, required fields); returns the error or undefined. */
export function modelError(obj: { kind?: string }): string | undefined {
  const Model = models[obj.kind ?? ''];
  if (!Model) return `no kubernetes-models class for kind ${obj.kind}`;
  try {
    new Model(obj).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Fields the typed client drops: unknown to the Kubernetes API (TOOLING.md §2). */
export function unknownFields(text: string): string[] {
  const raws = parseAllDocuments(text)
    .map((d) => d.toJS())
    .filter(Boolean);
  const typed = loadAllYaml(text);
  const out: string[] = [];
  raws.forEach((raw: any, i: number) => {
    const back = parse(dumpYaml(typed[i]));
    (function walk(a: any, b: any, p: string) {
      if (a && typeof a === 'object') {
        for (const k of Object.keys(a)) {
          if (b == null || typeof b !== 'object' || !(k in b)) out.push(`${raw.kind}/${raw.metadata?.name}: ${p}/${k}`);
          else walk(a[k], b[k], `${p}/${k}`);
        }
      }
    })(raw, back, '');
  });
  return out;
}

/** DNS-1123 label (Service, Namespace, container and most object names). */
export const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** DNS-1123 subdomain (ConfigMap, Secret, RBAC object names). */
export const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
