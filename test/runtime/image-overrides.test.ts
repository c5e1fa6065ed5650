import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { composeDocument } from '../../scripts/render/compose.js';
import { buildStack } from '../../scripts/stack/model.js';
import { resolveStackOptions } from '../../scripts/stack/options.js';
import { images as pins, imageRef } from '../../scripts/stack/versions.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const settings = (obj: object) => {
  const dir = mkdtempSync(join(tmpdir(), 'mop-settings-'));
  temps.push(dir);
  const f = join(dir, 'settings.json');
  writeFileSync(f, JSON.stringify(obj));
  return f;
};
const images = (env: NodeJS.ProcessEnv) => Object.fromEntries(buildStack(resolveStackOptions(env)).components.map((c) => [c.name, c.image]));

describe('image overrides reach the compose file (mirrors, air-gapped rooms, pinned digests)', () => {
  it('prefixes every pulled image with a registry mirror, but not the locally built demo', () => {
    const i = images({ MOP_SETTINGS: settings({}), MOP_REGISTRY_MIRROR: 'mirror.example.com:5000' });
    expect(i.grafana).toBe(`mirror.example.com:5000/${imageRef(pins.grafana)}`);
    expect(i.buckets).toBe(`mirror.example.com:5000/${imageRef(pins.mc)}`);
    expect(i.demo).toMatch(/^mop-sandbox\/demo-app:/);
  });

  it('takes a per-component image from MOP_IMAGE_<COMPONENT>, over the settings file, over the mirror', () => {
    const file = settings({ registryMirror: 'mirror.local/', images: { tempo: `tempo@sha256:${'a'.repeat(64)}`, loki: 'settings/loki:1' } });
    const i = images({ MOP_SETTINGS: file, MOP_IMAGE_LOKI: 'env/loki:2' });
    expect(i.tempo).toBe(`tempo@sha256:${'a'.repeat(64)}`);
    expect(i.loki).toBe('env/loki:2');
    expect(i.mimir).toBe(`mirror.local/${imageRef(pins.mimir)}`);
  });

  it('an overridden demo image replaces the local build', () => {
    const stack = buildStack(resolveStackOptions({ MOP_SETTINGS: settings({}), MOP_IMAGE_DEMO: 'registry/demo:1' }));
    const doc = composeDocument(stack, { projectName: 'p', paths: { config: '/c', dashboards: '/d', buildContext: '/b' } });
    expect(doc.services.demo).toMatchObject({ image: 'registry/demo:1' });
    expect(doc.services.demo.build).toBeUndefined();
  });

  it('reads host ports whose names contain digits (MOP_PORT_STORE_S3)', () => {
    const stack = buildStack(resolveStackOptions({ MOP_SETTINGS: settings({}), MOP_PORT_STORE_S3: '19000', MOP_PORT_ALLOY_OTLP_GRPC: '14317' }));
    expect(stack.published.find((p) => p.component === 'store' && p.name === 's3')?.hostPort).toBe(19000);
    expect(stack.published.find((p) => p.component === 'alloy' && p.name === 'otlp-grpc')?.hostPort).toBe(14317);
  });
});
