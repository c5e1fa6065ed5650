import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';
import { fromEnv, resolveStackOptions } from '../../scripts/stack/options.js';

const noSettings = { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), 'mop-cfg-')) };

function settingsFile(content: string) {
  const file = join(mkdtempSync(join(tmpdir(), 'mop-set-')), 'settings.json');
  writeFileSync(file, content);
  return file;
}

function usageFailure(fn: () => unknown): UserError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(ExitCode.usage);
    return e as UserError;
  }
  throw new Error('expected a usage error');
}

describe('settings resolution', () => {
  it('reads image overrides, mirror and ports from the environment', () => {
    const s = fromEnv({ MOP_IMAGE_GRAFANA: 'g:1', MOP_REGISTRY_MIRROR: 'm.local/', MOP_PORT_GRAFANA_HTTP: '3001', MOP_PORT_ALLOY_OTLP_GRPC: '14317' });
    expect(s.images).toEqual({ grafana: 'g:1' });
    expect(s.registryMirror).toBe('m.local/');
    expect(s.ports).toEqual({ 'grafana.http': 3001, 'alloy.otlp-grpc': 14317 });
  });

  it('lets flags win over the environment, and the environment over the settings file', () => {
    const file = settingsFile(JSON.stringify({ profile: 'dev', store: 'seaweedfs', images: { tempo: 'file:1', loki: 'file:2' } }));
    const opts = resolveStackOptions({ MOP_SETTINGS: file, MOP_STORE: 'minio', MOP_IMAGE_TEMPO: 'env:1' }, { profile: 'default' });
    expect(opts.profile).toBe('default');
    expect(opts.store).toBe('minio');
    expect(opts.imageOverrides).toEqual({ tempo: 'env:1', loki: 'file:2' });
  });

  it('rejects an unknown profile, store, component or key with exit code 2', () => {
    expect(usageFailure(() => resolveStackOptions(noSettings, { profile: 'staging' as never })).what).toMatch(/unknown profile "staging"/);
    expect(usageFailure(() => resolveStackOptions({ ...noSettings, MOP_STORE: 'ceph' })).what).toMatch(/unknown object store/);
    expect(usageFailure(() => resolveStackOptions({ ...noSettings, MOP_IMAGE_PROMETHEUS: 'x' })).what).toMatch(/unknown component "prometheus"/);
    expect(usageFailure(() => resolveStackOptions({ MOP_SETTINGS: settingsFile('{"profil":"dev"}') })).what).toMatch(/unknown key "profil"/);
    expect(usageFailure(() => resolveStackOptions({ MOP_SETTINGS: settingsFile('{nope') })).what).toMatch(/not valid JSON/);
    expect(usageFailure(() => resolveStackOptions({ ...noSettings, MOP_PORT_GRAFANA_HTTP: '70000' })).what).toMatch(/not a port/);
    expect(usageFailure(() => resolveStackOptions({ ...noSettings, MOP_MULTITENANCY: 'maybe' })).what).toMatch(/not a boolean/);
  });

  it('asks for an S3 endpoint when the prod profile is chosen without one', () => {
    const err = usageFailure(() => resolveStackOptions(noSettings, { profile: 'prod' }));
    expect(err.next).toMatch(/MOP_S3_ENDPOINT/);
    expect(resolveStackOptions({ ...noSettings, MOP_S3_ENDPOINT: 's3.example.com:443' }, { profile: 'prod' }).s3Endpoint).toBe('s3.example.com:443');
  });
});
