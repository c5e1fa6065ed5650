/**
 * Resolves what the user asked for into StackOptions: flags > environment > settings file > profile defaults.
 * Settings file: $MOP_SETTINGS, else $XDG_CONFIG_HOME/mop-sandbox/settings.json (JSON, keys as in `Settings`).
 * Environment: MOP_PROFILE, MOP_STORE, MOP_S3_ENDPOINT, MOP_REGISTRY_MIRROR, MOP_IMAGE_<COMPONENT>,
 * MOP_PORT_<COMPONENT>_<PORT> (e.g. MOP_PORT_GRAFANA_HTTP=3001), MOP_MEMORY_<COMPONENT> (e.g. MOP_MEMORY_TEMPO=2Gi), MOP_BIND_ADDRESS, MOP_MULTITENANCY, MOP_TENANT, MOP_OBI, MOP_DEMO,
 * MOP_COLLECT_ALL_LOGS, MOP_STORE_CONSOLE.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { usageError } from '../lib/errors.js';
import { storeKinds, type ComponentName, type StackOptions, type StoreKind } from './model.js';
import { isProfileName, profileNames, type ProfileName } from './profiles.js';

/** StackOptions as a user writes them: `images` and `ports` are the settings-file names of the two maps. */
export type Settings = Omit<StackOptions, 'imageOverrides' | 'hostPorts' | 'memoryLimits'> & {
  images?: StackOptions['imageOverrides'];
  ports?: StackOptions['hostPorts'];
  memory?: StackOptions['memoryLimits'];
};

const settingKeys: (keyof Settings)[] = [
  'profile', 'store', 's3Endpoint', 's3Insecure', 's3Region', 'registryMirror', 'images', 'ports', 'memory', 'bindAddress', 'multitenancy', 'tenant', 'obi', 'demo',
  'collectAllLogs', 'storeConsole',
];

export const componentNames: ComponentName[] = ['store', 'buckets', 'tempo', 'mimir', 'loki', 'alloy', 'grafana', 'demo', 'obi', 'gateway'];

export function settingsPath(env: NodeJS.ProcessEnv): string {
  if (env.MOP_SETTINGS) return env.MOP_SETTINGS;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'mop-sandbox', 'settings.json');
}

export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const file = settingsPath(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !env.MOP_SETTINGS) return {};
    throw usageError(`cannot read the settings file ${file}: ${(e as Error).message}`, 'fix the path in MOP_SETTINGS or create the file');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw usageError(`the settings file ${file} is not valid JSON: ${(e as Error).message}`, 'fix the file, or move it away to use the defaults');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw usageError(`the settings file ${file} must hold a JSON object`, `see the README section "Settings"`);
  }
  for (const key of Object.keys(parsed)) {
    if (!settingKeys.includes(key as keyof Settings)) {
      throw usageError(`unknown key "${key}" in the settings file ${file}`, `known keys: ${settingKeys.join(', ')}`);
    }
  }
  return parsed as Settings;
}

function bool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw usageError(`${name}="${v}" is not a boolean`, `use true or false`);
}

function port(name: string, v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw usageError(`${name}: "${v}" is not a port number (1-65535)`);
  return n;
}

export function fromEnv(env: NodeJS.ProcessEnv): Settings {
  const s: Settings = {};
  if (env.MOP_PROFILE) s.profile = env.MOP_PROFILE as ProfileName;
  if (env.MOP_STORE) s.store = env.MOP_STORE as StoreKind;
  if (env.MOP_S3_ENDPOINT) s.s3Endpoint = env.MOP_S3_ENDPOINT;
  s.s3Insecure = bool('MOP_S3_INSECURE', env.MOP_S3_INSECURE);
  if (env.MOP_S3_REGION) s.s3Region = env.MOP_S3_REGION;
  if (env.MOP_REGISTRY_MIRROR) s.registryMirror = env.MOP_REGISTRY_MIRROR;
  if (env.MOP_BIND_ADDRESS) s.bindAddress = env.MOP_BIND_ADDRESS;
  s.multitenancy = bool('MOP_MULTITENANCY', env.MOP_MULTITENANCY);
  if (env.MOP_TENANT) s.tenant = env.MOP_TENANT;
  s.obi = bool('MOP_OBI', env.MOP_OBI);
  s.demo = bool('MOP_DEMO', env.MOP_DEMO);
  s.collectAllLogs = bool('MOP_COLLECT_ALL_LOGS', env.MOP_COLLECT_ALL_LOGS);
  s.storeConsole = bool('MOP_STORE_CONSOLE', env.MOP_STORE_CONSOLE);
  for (const [key, value] of Object.entries(env)) {
    const img = /^MOP_IMAGE_([A-Z]+)$/.exec(key);
    if (img && value) (s.images ??= {})[img[1].toLowerCase() as ComponentName] = value;
    const p = /^MOP_PORT_([A-Z]+)_([A-Z0-9_]+)$/.exec(key);
    if (p && value) (s.ports ??= {})[`${p[1].toLowerCase()}.${p[2].toLowerCase().replace(/_/g, '-')}`] = port(key, value);
    const mem = /^MOP_MEMORY_([A-Z]+)$/.exec(key);
    if (mem && value) (s.memory ??= {})[mem[1].toLowerCase() as ComponentName] = value;
  }
  return s;
}

function merge(...layers: Settings[]): Settings {
  const out: Settings = {};
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer) as [keyof Settings, unknown][]) {
      if (v === undefined) continue;
      if (k === 'images' || k === 'ports' || k === 'memory') (out as any)[k] = { ...(out as any)[k], ...(v as object) };
      else (out as any)[k] = v;
    }
  }
  return out;
}

/**
 * Every value that reaches a shell, a config file, an env file, a header or an image reference has one shape;
 * anything else is refused here, before it is rendered (security review F8).
 */
const patterns = {
  // host or IPv4 with an optional port, no scheme (the bucket job and the configs add it).
  s3Endpoint: { re: /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:\d{1,5})?$/, shape: 'host:port, e.g. s3.example.com:443 (letters, digits, "." and "-"; no scheme, path or spaces)' },
  s3Region: { re: /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, shape: 'a region name such as us-east-1' },
  // Mimir/Loki/Tempo tenant ids allow more, but these characters survive headers, env files and YAML unquoted.
  tenant: { re: /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,150}$/, shape: 'at most 150 letters, digits, "_", "." and "-"' },
  registryMirror: { re: /^[A-Za-z0-9]([A-Za-z0-9.-]*)(:\d{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/?$/, shape: 'a registry host with an optional path, e.g. mirror.example.com/dockerhub/' },
} as const;

/** The OCI distribution reference grammar: [registry[:port]/]path[:tag][@sha256:digest]. */
export const imageReference =
  /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::\d+)?\/)?[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

function checkShape(name: keyof typeof patterns, value: unknown): void {
  if (value === undefined) return;
  const { re, shape } = patterns[name];
  if (typeof value !== 'string' || !re.test(value)) throw usageError(`${name} ${JSON.stringify(value)} is not valid`, `use ${shape}`);
}

/** Validates a merged Settings and turns it into StackOptions. */
export function toStackOptions(s: Settings): StackOptions {
  for (const name of Object.keys(patterns) as (keyof typeof patterns)[]) checkShape(name, s[name]);
  if (s.bindAddress !== undefined && (typeof s.bindAddress !== 'string' || isIP(s.bindAddress) === 0)) {
    throw usageError(`bindAddress ${JSON.stringify(s.bindAddress)} is not an IP address`, 'use 127.0.0.1 (the default), ::1, or an address of this machine');
  }
  for (const key of ['s3Insecure', 'multitenancy', 'obi', 'demo'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'boolean') throw usageError(`${key} must be true or false, got ${JSON.stringify(s[key])}`);
  }
  for (const [name, ref] of Object.entries(s.images ?? {})) {
    if (typeof ref !== 'string' || !imageReference.test(ref)) {
      throw usageError(`image override for ${name}, ${JSON.stringify(ref)}, is not an image reference`, 'use repository[:tag][@sha256:digest], e.g. grafana/grafana:13.2.0');
    }
  }
  if (s.profile !== undefined && !isProfileName(s.profile)) {
    throw usageError(`unknown profile "${s.profile}"`, `use one of: ${profileNames.join(', ')}`);
  }
  if (s.store !== undefined && !storeKinds.includes(s.store)) {
    throw usageError(`unknown object store "${s.store}"`, `use one of: ${storeKinds.join(', ')}`);
  }
  for (const name of Object.keys(s.images ?? {})) {
    if (!componentNames.includes(name as ComponentName)) {
      throw usageError(`image override for unknown component "${name}"`, `components: ${componentNames.join(', ')}`);
    }
  }
  const hostPorts: Record<string, number> = {};
  for (const [k, v] of Object.entries(s.ports ?? {})) hostPorts[k] = port(`port ${k}`, v);
  for (const [name, v] of Object.entries(s.memory ?? {})) {
    if (!componentNames.includes(name as ComponentName)) throw usageError(`memory limit for unknown component "${name}"`, `components: ${componentNames.join(', ')}`);
    if (typeof v !== 'string' || !/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|K|M|G|T)?$/.test(v) || !(parseFloat(v) > 0)) {
      throw usageError(`memory limit for ${name}: "${v}" is not a memory size`, 'give a Kubernetes quantity, e.g. 512Mi or 2Gi');
    }
  }
  const { images, ports: _ports, memory, ...rest } = s;
  return { ...rest, imageOverrides: images, hostPorts, ...(memory ? { memoryLimits: memory } : {}) };
}

/** flags: parsed CLI values that map onto settings (profile, store, obi, ...). */
export function resolveStackOptions(env: NodeJS.ProcessEnv, flags: Settings = {}): StackOptions {
  const opts = toStackOptions(merge(loadSettings(env), fromEnv(env), flags));
  const profile = opts.profile ?? 'default';
  if ((opts.store ?? (profile === 'prod' ? 'external' : undefined)) === 'external' && !opts.s3Endpoint) {
    throw usageError(
      `the ${profile === 'prod' ? 'prod profile uses' : 'store "external" needs'} an external S3 endpoint, and none is set`,
      'set MOP_S3_ENDPOINT=host:port (or "s3Endpoint" in the settings file), or choose --store minio',
    );
  }
  return opts;
}
