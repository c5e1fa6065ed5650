/**
 * Cross-references between config/ and the stack model (scripts/stack/model.ts), for every profile, store
 * and tenancy setting: every host:port a config names is a port of a model component, every bucket is
 * one the model lists and the bucket job creates, every datasource uid used is provisioned, every
 * environment variable a config reads is set for the component that mounts it, and every published
 * port binds 127.0.0.1. Runs everywhere (no ../shared needed).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  buildStack,
  backendSecrets,
  envOn,
  buckets as modelBuckets,
  s3Backends,
  storeKinds,
  type Component,
  type Stack,
  type StackOptions,
} from '../../scripts/stack/model.js';
import { profileNames } from '../../scripts/stack/profiles.js';
import { socketProxyScript } from '../../scripts/stack/socket-proxy.js';
import { parseAlloy, type AlloyBlock } from '../support/alloy-grammar.js';
import { configDir, dashboardsDir } from './paths.js';

// ------------------------------------------------------------------------------------------------
// Stacks and files

const variants: StackOptions[] = profileNames.flatMap((profile) =>
  storeKinds.flatMap((store) =>
    [false, true].map((multitenancy) => ({
      profile,
      store,
      multitenancy,
      s3Endpoint: store === 'external' ? 's3.example.com:443' : undefined,
      demo: true,
      obi: true,
      // Both log scopes across the variants, so both discovery files are checked.
      collectAllLogs: multitenancy,
    })),
  ),
);
const label = (o: StackOptions) => `${o.profile}/${o.store}/${o.multitenancy ? 'multi-tenant' : 'single-tenant'}`;

function listFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [p];
  });
}
const configFiles = listFiles(configDir).map((p) => relative(configDir, p).split('\\').join('/')).sort();
const readConfig = (source: string) => readFileSync(join(configDir, source), 'utf8');

/** The component that mounts each config file (a file belongs to exactly one component). */
function owners(stack: Stack): Map<string, Component> {
  const map = new Map<string, Component>();
  for (const c of stack.components) {
    for (const f of c.configFiles) {
      if (f.from === 'dashboards') continue;
      const other = map.get(f.source);
      if (other && other.name !== c.name) throw new Error(`${f.source} is mounted by ${other.name} and ${c.name}`);
      map.set(f.source, c);
    }
  }
  return map;
}

type Syntax = 'expand-env' | 'grafana' | 'alloy' | 'shell' | 'node';
function syntaxOf(source: string): Syntax {
  if (source.endsWith('.alloy')) return 'alloy';
  // A start script: reads only optional variables (each with a default) and names no endpoint; its own test covers it.
  if (source.endsWith('.sh')) return 'shell';
  // A Node.js script (the gateway): reads process.env; its endpoints come from the model through that env.
  if (source.endsWith('.mjs')) return 'node';
  if (source.startsWith('grafana/')) return 'grafana';
  return 'expand-env';
}

// ------------------------------------------------------------------------------------------------
// Environment placeholders

/** `${VAR}`, `${VAR:-default}` and `$VAR` as Tempo/Mimir/Loki (-config.expand-env) and Grafana provisioning expand them. */
const placeholderRe = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=+?][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function envVarsIn(source: string): string[] {
  const text = readConfig(source);
  const syntax = syntaxOf(source);
  const names = new Set<string>();
  if (syntax === 'shell') return [];
  if (syntax === 'node') return [...text.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]);
  if (syntax === 'alloy') {
    const walk = (b: AlloyBlock) => {
      for (const a of b.attributes) for (const c of a.calls) if (c.name === 'sys.env' || c.name === 'env') c.stringArgs.forEach((n) => names.add(n));
      b.blocks.forEach(walk);
    };
    parseAlloy(text).blocks.forEach(walk);
  } else {
    // Grafana writes a literal $ as $$; Tempo, Mimir and Loki expand the whole file, comments included.
    const t = syntax === 'grafana' ? text.replaceAll('$$', '') : text;
    for (const m of t.matchAll(placeholderRe)) names.add(m[1] ?? m[2]);
  }
  return [...names].sort();
}

/** Secrets are generated letters and digits (scripts/lib/state.ts); any such value will do here. */
function envOf(c: Component): Record<string, string> {
  return Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, typeof v === 'string' ? v : `Secret${v.secret.replace(/_/g, '')}9`]));
}

function expand(source: string, env: Record<string, string>): string {
  let text = readConfig(source);
  const syntax = syntaxOf(source);
  if (syntax === 'grafana') text = text.replaceAll('$$', '\u0000');
  text = text.replace(placeholderRe, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    if (!(name in env)) throw new Error(`${source}: ${name} is not set`);
    return env[name];
  });
  return syntax === 'grafana' ? text.replaceAll('\u0000', '$') : text;
}

// ------------------------------------------------------------------------------------------------
// Endpoints

interface Endpoint {
  host: string;
  port: number;
  text: string;
}

const defaultPorts: Record<string, number> = { http: 80, https: 443, grpc: 443 };
const listenHosts = new Set(['0.0.0.0', '127.0.0.1', 'localhost', '::', '[::]', '']);

function endpointIn(s: string): Endpoint | undefined {
  const url = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]*\]|[^/:?#]*)(?::(\d+))?/i.exec(s);
  if (url) {
    const scheme = url[1].toLowerCase();
    if (scheme === 'unix' || scheme === 'file') return undefined;
    const port = url[3] ? Number(url[3]) : defaultPorts[scheme];
    return { host: url[2], port, text: s };
  }
  const hp = /^(?:dns\+|dnssrv\+|dnssrvnoa\+)?([A-Za-z0-9][A-Za-z0-9_.-]*|\[[0-9a-fA-F:]*\]):(\d{1,5})$/.exec(s);
  return hp ? { host: hp[1], port: Number(hp[2]), text: s } : undefined;
}

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.values(value).flatMap(stringsOf);
  return [];
}

function alloyStrings(text: string): string[] {
  const out: string[] = [];
  const walk = (b: AlloyBlock) => {
    for (const a of b.attributes) out.push(...a.strings);
    b.blocks.forEach(walk);
  };
  parseAlloy(text).blocks.forEach(walk);
  return out;
}

/** Every host:port a config names once its placeholders are filled in, listen addresses left out. */
function endpointsIn(source: string, env: Record<string, string>): Endpoint[] {
  if (syntaxOf(source) === 'shell' || syntaxOf(source) === 'node') return [];
  const text = expand(source, env);
  const strings = syntaxOf(source) === 'alloy' ? alloyStrings(text) : stringsOf(parseYaml(text));
  return strings.map(endpointIn).filter((e): e is Endpoint => e !== undefined && !listenHosts.has(e.host));
}

/** The keep rule of stack-compose.alloy's discovery.relabel "stack": whether the store target survives for a MOP_STORE value. */
function alloyKeepsStoreTarget(storeKind: string): boolean {
  const f = parseAlloy(readConfig('alloy/stack-compose.alloy'));
  const relabel = f.blocks.find((b) => b.name === 'discovery.relabel' && b.label === 'stack');
  if (!relabel) throw new Error('stack-compose.alloy has no discovery.relabel "stack"');
  const rules = relabel.blocks.filter((b) => b.name === 'rule');
  const keep = rules.find((r) => r.attributes.find((a) => a.name === 'action')?.strings[0] === 'keep');
  if (!keep) throw new Error('discovery.relabel "stack" has no keep rule');
  const regex = keep.attributes.find((a) => a.name === 'regex')!.strings[0];
  expect(keep.attributes.find((a) => a.name === 'source_labels')!.strings).toEqual(['job', '__store_kind']);
  return new RegExp(`^(?:${regex})$`).test(`store;${storeKind}`);
}

// ------------------------------------------------------------------------------------------------

describe('config files and the stack model', () => {
  it('every config file is mounted by a component, and every mounted file exists', () => {
    const full = [false, true].map((collectAllLogs) => buildStack({ store: 'minio', obi: true, demo: true, collectAllLogs }));
    const mounted = new Set(full.flatMap((s) => s.components).flatMap((c) => c.configFiles.filter((f) => f.from !== 'dashboards').map((f) => f.source)));
    // The socket proxy is a service of the compose render, not a component (scripts/stack/socket-proxy.ts).
    mounted.add(socketProxyScript.source);
    expect(configFiles.filter((f) => !mounted.has(f))).toEqual([]);
    expect([...mounted].filter((f) => !configFiles.includes(f))).toEqual([]);
  });

  it('Tempo, Mimir and Loki read the mounted file with env expansion; Alloy runs the directory holding its files', () => {
    for (const opts of variants) {
      const stack = buildStack(opts);
      for (const c of stack.components) {
        if (!['tempo', 'mimir', 'loki'].includes(c.name)) continue;
        expect(c.args, c.name).toContain(`-config.file=${c.configFiles[0].target}`);
        expect(c.args, c.name).toContain('-config.expand-env=true');
      }
      const alloy = stack.components.find((c) => c.name === 'alloy')!;
      const dir = alloy.args[alloy.args.length - 1];
      for (const f of alloy.configFiles) {
        expect(f.target, f.source).toBe(`${dir}/${f.source.split('/').pop()}`);
        expect(f.target).toMatch(/\.alloy$/);
      }
    }
  });
});

describe('environment variables', () => {
  it('each config reads the variables the stack model gives it', () => {
    expect(envVarsIn('tempo/tempo.yaml')).toEqual([
      'MOP_MULTITENANCY_ENABLED', 'S3_ACCESS_KEY_ID', 'S3_ENDPOINT', 'S3_INSECURE', 'S3_REGION', 'S3_SECRET_ACCESS_KEY',
    ]);
    expect(envVarsIn('grafana/provisioning/datasources/datasources.yaml')).toEqual(['MOP_TENANT']);
    expect(envVarsIn('alloy/config.alloy')).toEqual(['MOP_TENANT']);
    expect(envVarsIn('alloy/discovery-docker-stack.alloy')).toEqual(['MOP_DOCKER_HOST', 'MOP_STACK_ID']);
    expect(envVarsIn('alloy/discovery-docker-all.alloy')).toEqual(['MOP_DOCKER_HOST']);
    expect(envVarsIn('alloy/logs-docker.alloy')).toEqual(['MOP_DOCKER_HOST']);
    expect(envVarsIn('alloy/stack-compose.alloy')).toEqual(['MOP_STORE']);
    expect(envVarsIn('alloy/stack-kubernetes.alloy')).toEqual(['MOP_STORE']);
    expect(envVarsIn('mimir/mimir.yaml')).toEqual(expect.arrayContaining(['RING_REPLICATION_FACTOR']));
    expect(envVarsIn('loki/loki.yaml')).toEqual(expect.arrayContaining(['RING_REPLICATION_FACTOR']));
  });

  for (const opts of variants) {
    it(`every variable a config references is set for the component that mounts it (${label(opts)})`, () => {
      const stack = buildStack(opts);
      const byFile = owners(stack);
      for (const source of configFiles) {
        const c = byFile.get(source);
        if (!c) continue; // the other log scope's discovery file
        // Set on every runtime the file is mounted on.
        const runtimes = c.configFiles.find((f) => f.source === source)?.runtimes ?? (['compose', 'kind'] as const);
        for (const name of envVarsIn(source)) {
          for (const runtime of runtimes) {
            const v = envOn(c, runtime)[name];
            expect(v, `${source} reads ${name}, which ${c.name} does not set on ${runtime}`).toBeDefined();
            if (typeof v === 'string') expect(v, `${c.name}: ${name} is empty on ${runtime}`).not.toBe('');
          }
        }
      }
    });
  }

  it('after expansion the tenancy switch and S3 settings have the right types and values', () => {
    for (const opts of variants) {
      const stack = buildStack(opts);
      const byFile = owners(stack);
      const expanded = (source: string) => parseYaml(expand(source, envOf(byFile.get(source)!)));
      const tempo = expanded('tempo/tempo.yaml');
      const mimir = expanded('mimir/mimir.yaml');
      const loki = expanded('loki/loki.yaml');
      expect(tempo.multitenancy_enabled, label(opts)).toBe(stack.multitenancy);
      expect(mimir.multitenancy_enabled, label(opts)).toBe(stack.multitenancy);
      expect(loki.auth_enabled, label(opts)).toBe(stack.multitenancy);
      expect(tempo.storage.trace.s3).toMatchObject({ endpoint: stack.s3.endpoint, insecure: stack.s3.insecure, region: stack.s3.region });
      expect(mimir.common.storage.s3).toMatchObject({ endpoint: stack.s3.endpoint, insecure: stack.s3.insecure, region: stack.s3.region });
      expect(loki.common.storage.s3).toMatchObject({ endpoint: stack.s3.endpoint, insecure: stack.s3.insecure, region: stack.s3.region });
      const grafana = expanded('grafana/provisioning/datasources/datasources.yaml');
      for (const ds of grafana.datasources) {
        expect(ds.jsonData.httpHeaderName1).toBe('X-Scope-OrgID');
        expect(ds.secureJsonData.httpHeaderValue1).toBe(stack.tenant);
      }
    }
  });
});

describe('endpoints', () => {
  for (const opts of variants) {
    it(`every host:port in a config or environment is a port of a model component the owner declares in talksTo (${label(opts)})`, () => {
      const stack = buildStack(opts);
      const byFile = owners(stack);
      const components = new Map(stack.components.map((c) => [c.name as string, c]));
      // The NetworkPolicies allow exactly talksTo: a connection a config makes must be declared there.
      const declared = (owner: Component, host: string, port: number) => {
        if (host === owner.name) return true;
        const name = components.get(host)?.ports.find((p) => p.port === port)?.name;
        return owner.talksTo.some((t) => t.name === host && t.port === name);
      };
      for (const c of stack.components) {
        for (const [k, v] of Object.entries(envOf(c))) {
          const e = endpointIn(v);
          if (!e || !components.has(e.host)) continue;
          expect(declared(c, e.host, e.port), `${c.name} env ${k}=${v} is not in its talksTo`).toBe(true);
        }
      }
      for (const source of configFiles) {
        const owner = byFile.get(source);
        if (!owner) continue; // the other log scope's discovery file

        for (const e of endpointsIn(source, envOf(owner))) {
          const where = `${source} (${owner.name}) names ${e.text}`;
          if (e.host === stack.s3.endpoint.split(':')[0] && stack.store === 'external') {
            expect(`${e.host}:${e.port}`, where).toBe(stack.s3.endpoint);
            continue;
          }
          if (source === 'alloy/stack-compose.alloy' && e.host === 'store' && !alloyKeepsStoreTarget(stack.store)) continue;
          // A gossip name (compose alias, headless Service) reaches its component's gossip port only.
          const gossiping = stack.components.find((c) => c.gossipService === e.host);
          if (gossiping) {
            expect(gossiping.ports.filter((p) => p.protocol === 'gossip').map((p) => p.port), `${where}: not the gossip port`).toContain(e.port);
            continue;
          }
          const target = components.get(e.host);
          expect(target, `${where}: no component ${e.host}`).toBeDefined();
          expect(target!.ports.map((p) => p.port), `${where}: ${e.host} has no port ${e.port}`).toContain(e.port);
          expect(declared(owner, e.host, e.port), `${where}: not in ${owner.name}'s talksTo`).toBe(true);
        }
      }
    });
  }

  it('the configs reach every backend (the check above has something to check)', () => {
    const stack = buildStack();
    const byFile = owners(stack);
    const named = new Set(configFiles.filter((s) => byFile.has(s)).flatMap((s) => endpointsIn(s, envOf(byFile.get(s)!)).map((e) => `${e.host}:${e.port}`)));
    for (const e of ['tempo:4317', 'tempo:3200', 'mimir:8080', 'mimir-gossip:7946', 'loki:3100', 'loki-gossip:7946', 'grafana:3000', 'store:9000']) {
      expect(named).toContain(e);
    }
  });

  it('Alloy scrapes the store only where its metrics path exists (the MinIO line)', () => {
    expect(alloyKeepsStoreTarget('minio')).toBe(true);
    expect(alloyKeepsStoreTarget('seaweedfs')).toBe(false);
    expect(alloyKeepsStoreTarget('external')).toBe(false);
    expect(alloyKeepsStoreTarget('')).toBe(false);
    for (const opts of variants) expect(buildStack(opts).components.find((c) => c.name === 'alloy')!.env.MOP_STORE).toBe(opts.store);
  });
});

describe('buckets', () => {
  const bucketKeys = new Set(['bucket', 'bucket_name', 'bucketnames']);
  function bucketsIn(value: unknown, out: string[] = []): string[] {
    if (Array.isArray(value)) value.forEach((v) => bucketsIn(v, out));
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (bucketKeys.has(k) && typeof v === 'string') out.push(...v.split(',').map((s) => s.trim()).filter(Boolean));
        else bucketsIn(v, out);
      }
    }
    return out;
  }
  const yamlOf = (source: string) => parseYaml(readConfig(source));

  it('each backend uses exactly the buckets the model gives it', () => {
    for (const name of ['tempo', 'mimir', 'loki'] as const) {
      const used = [...new Set(bucketsIn(yamlOf(`${name}/${name}.yaml`)))].sort();
      expect(used, name).toEqual(modelBuckets.filter((b) => b.usedBy === name).map((b) => b.name).sort());
    }
  });

  it('the bucket job creates every bucket, for every store', () => {
    for (const opts of variants) {
      const job = buildStack(opts).components.find((c) => c.name === 'buckets')!;
      const script = [...(job.entrypoint ?? []), ...job.args].join(' ');
      for (const b of modelBuckets) expect(script, `${label(opts)}: ${b.name}`).toMatch(new RegExp(`(^|[\\s/"])${b.name}([\\s;"]|$)`));
      expect(script).toContain('mc mb');
    }
  });

  it("Mimir's storage prefixes in its one bucket are distinct letters and digits", () => {
    const mimir = yamlOf('mimir/mimir.yaml');
    const prefixes = [mimir.blocks_storage.storage_prefix, mimir.ruler_storage.storage_prefix, mimir.alertmanager_storage.storage_prefix];
    for (const p of prefixes) expect(p).toMatch(/^[A-Za-z0-9]+$/);
    expect(new Set(prefixes).size).toBe(prefixes.length);
  });
});

describe('Grafana datasources', () => {
  const provisioning = parseYaml(readConfig('grafana/provisioning/datasources/datasources.yaml'));
  const provisioned = new Map<string, { type: string; name: string }>(
    provisioning.datasources.map((d: { uid: string; type: string; name: string }) => [d.uid, d]),
  );
  const builtins = new Set(['-- Grafana --', 'grafana', '-- Mixed --', '-- Dashboard --']);
  const isVariable = (s: string) => s.startsWith('$');

  it('provisions mimir, tempo and loki with fixed uids', () => {
    expect([...provisioned.keys()].sort()).toEqual(['loki', 'mimir', 'tempo']);
    expect(provisioned.get('mimir')!.type).toBe('prometheus');
    expect(provisioned.get('tempo')!.type).toBe('tempo');
    expect(provisioned.get('loki')!.type).toBe('loki');
  });

  it('every datasourceUid in the provisioning is provisioned, and both exemplar label names lead to Tempo', () => {
    const uids: string[] = [];
    const walk = (v: unknown) => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'datasourceUid') uids.push(String(x));
          else walk(x);
        }
      }
    };
    walk(provisioning);
    expect(uids.length).toBeGreaterThan(5);
    for (const u of uids) expect([...provisioned.keys()]).toContain(u);
    const mimir = provisioning.datasources.find((d: { uid: string }) => d.uid === 'mimir');
    expect(mimir.jsonData.exemplarTraceIdDestinations.map((d: { name: string; datasourceUid: string }) => `${d.name}->${d.datasourceUid}`)).toEqual([
      'traceID->tempo',
      'trace_id->tempo',
    ]);
  });

  it('the dashboards provider loads dashboards/ from where the runtimes mount it', () => {
    const providers = parseYaml(readConfig('grafana/provisioning/dashboards/dashboards.yaml')).providers;
    expect(providers).toHaveLength(1);
    expect(providers[0]).toMatchObject({
      type: 'file',
      allowUiUpdates: false,
      options: { path: '/etc/mop/dashboards', foldersFromFilesStructure: false },
    });
  });

  const dashboardFiles = (() => {
    try {
      return readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  })();
  it('every datasource a dashboard in dashboards/ uses is provisioned, with the matching type', () => {
    let checked = 0;
    for (const f of dashboardFiles) {
      const json = JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8'));
      if (!Array.isArray(json.panels)) continue; // not a dashboard (for example metrics-catalog.json)
      const walk = (v: unknown) => {
        if (Array.isArray(v)) return v.forEach(walk);
        if (!v || typeof v !== 'object') return;
        for (const [k, x] of Object.entries(v)) {
          if (k === 'datasource' && x && typeof x === 'object' && 'uid' in x) {
            const { uid, type } = x as { uid: string; type?: string };
            checked++;
            if (isVariable(uid) || builtins.has(uid)) continue;
            expect(provisioned.has(uid), `${f}: datasource uid ${uid} is not provisioned`).toBe(true);
            if (type) expect(type, `${f}: datasource ${uid}`).toBe(provisioned.get(uid)!.type);
          } else if (k === 'datasource' && typeof x === 'string') {
            checked++;
            if (!isVariable(x) && !builtins.has(x)) {
              expect([...provisioned.values()].map((d) => d.name), `${f}: datasource ${x}`).toContain(x);
            }
          } else walk(x);
        }
      };
      walk(json);
    }
    if (dashboardFiles.length > 0) expect(checked).toBeGreaterThan(0);
  });
});

describe('published ports', () => {
  for (const opts of variants) {
    it(`every published port binds 127.0.0.1 and no gossip port is published (${label(opts)})`, () => {
      const stack = buildStack(opts);
      expect(stack.published.length).toBeGreaterThan(0);
      for (const p of stack.published) {
        expect(p.hostIp, `${p.component}.${p.name}`).toBe('127.0.0.1');
        expect(p.protocol, `${p.component}.${p.name}`).not.toBe('gossip');
      }
    });
  }
});

describe('S3 credentials (security review F11)', () => {
  const secretsOf = (c: Component) => new Map(Object.entries(c.env).flatMap(([k, v]) => (typeof v === 'string' ? [] : [[k, v.secret] as const])));
  for (const store of ['minio', 'seaweedfs'] as const) {
    it(`on ${store}, each backend reads its own key pair and never the root pair; only the store and the bucket job see the root pair`, () => {
      const stack = buildStack({ store, obi: true, demo: true });
      for (const b of s3Backends) {
        const own = backendSecrets(b);
        const c = stack.components.find((x) => x.name === b)!;
        const secrets = secretsOf(c);
        expect(secrets.get('S3_ACCESS_KEY_ID')).toBe(own.accessKeyId);
        expect(secrets.get('S3_SECRET_ACCESS_KEY')).toBe(own.secretAccessKey);
        expect([...secrets.values()].filter((s) => s.startsWith('S3_')).sort()).toEqual([own.accessKeyId, own.secretAccessKey].sort());
      }
      for (const c of stack.components) {
        const values = [...secretsOf(c).values()];
        const root = values.includes('S3_ACCESS_KEY_ID') || values.includes('S3_SECRET_ACCESS_KEY');
        expect(root, c.name).toBe(c.name === 'store' || c.name === 'buckets');
        // Another backend's pair reaches only the component that creates the users (bucket job on MinIO, store on SeaweedFS).
        const others = s3Backends.filter((b) => b !== c.name).flatMap((b) => Object.values(backendSecrets(b)));
        const creator = store === 'minio' ? 'buckets' : 'store';
        if (c.name !== creator) expect(values.filter((v) => others.includes(v)), c.name).toEqual([]);
      }
    });
  }

  it('the MinIO bucket job creates one user per backend with a policy on exactly its buckets', () => {
    const job = buildStack({ store: 'minio' }).components.find((c) => c.name === 'buckets')!;
    const script = job.args[0];
    for (const b of s3Backends) {
      const k = backendSecrets(b);
      expect(script).toContain(`mc admin user add store "$${k.accessKeyId}" "$${k.secretAccessKey}"`);
      expect(script).toContain(`mc admin policy attach store mop-${b} --user "$${k.accessKeyId}"`);
      const doc = new RegExp(`printf '%s' '([^']*)' > /tmp/mop-${b}.json`).exec(script)![1];
      const resources = JSON.parse(doc).Statement[0].Resource as string[];
      const mine = modelBuckets.filter((x) => x.usedBy === b).map((x) => x.name);
      expect(resources.sort()).toEqual(mine.flatMap((x) => [`arn:aws:s3:::${x}`, `arn:aws:s3:::${x}/*`]).sort());
    }
  });

  it('SeaweedFS gets an identity per backend limited to its buckets, written from the environment at start', () => {
    const store = buildStack({ store: 'seaweedfs' }).components.find((c) => c.name === 'store')!;
    const script = store.args[0];
    expect(script).toContain('-s3.config=/tmp/s3.json');
    const json = /printf '%s' "((?:[^"\\]|\\.)*)" > \/tmp\/s3\.json/.exec(script)![1].replace(/\\(.)/g, '$1');
    const identities = JSON.parse(json).identities as { name: string; credentials: { accessKey: string }[]; actions: string[] }[];
    expect(identities.map((i) => i.name).sort()).toEqual([...s3Backends].sort());
    for (const i of identities) {
      expect(i.credentials[0].accessKey).toBe(`\${${backendSecrets(i.name as (typeof s3Backends)[number]).accessKeyId}}`);
      const mine = modelBuckets.filter((x) => x.usedBy === i.name).map((x) => x.name);
      expect(new Set(i.actions.map((a) => a.split(':')[1]))).toEqual(new Set(mine));
    }
  });

  it('an external store has no users of ours: every backend uses the pair it was given', () => {
    const stack = buildStack({ store: 'external', s3Endpoint: 's3.example.com:443' });
    for (const b of s3Backends) expect(secretsOf(stack.components.find((c) => c.name === b)!).get('S3_ACCESS_KEY_ID')).toBe('S3_ACCESS_KEY_ID');
  });
});
