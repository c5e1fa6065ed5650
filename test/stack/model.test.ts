import { describe, expect, it } from 'vitest';
import { buildStack, buckets, storeKinds, type StackOptions } from '../../scripts/stack/model.js';
import { images, imageRef } from '../../scripts/stack/versions.js';
import { profileNames, profiles } from '../../scripts/stack/profiles.js';

const variants: StackOptions[] = profileNames.flatMap((profile) =>
  storeKinds.map((store) => ({ profile, store, s3Endpoint: store === 'external' ? 's3.example.com:443' : undefined, obi: true })),
);

describe('stack model', () => {
  it.each(variants)('every dependency names a component that exists ($profile, $store)', (opts) => {
    const stack = buildStack(opts);
    const names = new Set(stack.components.map((c) => c.name));
    for (const c of stack.components) for (const d of c.dependsOn) expect(names, `${c.name} depends on ${d.name}`).toContain(d.name);
  });

  it('pins every pulled image to a tag from versions.ts, never latest', () => {
    const pinned = new Set(Object.values(images).map(imageRef));
    for (const opts of variants) {
      for (const c of buildStack(opts).components) {
        if (c.build) continue;
        expect(pinned, `${c.name} uses ${c.image}`).toContain(c.image);
        expect(c.image).not.toMatch(/:latest$/);
      }
    }
  });

  it('publishes every port on 127.0.0.1 by default, with unique host ports', () => {
    for (const opts of variants) {
      const stack = buildStack(opts);
      expect(stack.published.length).toBeGreaterThan(0);
      for (const p of stack.published) expect(p.hostIp).toBe('127.0.0.1');
      const hostPorts = stack.published.map((p) => p.hostPort);
      expect(new Set(hostPorts).size).toBe(hostPorts.length);
    }
  });

  it('uses the seed replicas for the default profile and scales more in prod', () => {
    expect(profiles.default.replicas).toEqual({ alloy: 2, tempo: 1, mimir: 1, loki: 1, grafana: 1 });
    const prod = buildStack({ profile: 'prod', s3Endpoint: 's3.example.com:443' });
    expect(prod.components.find((c) => c.name === 'alloy')!.replicas).toBeGreaterThan(2);
    expect(prod.store).toBe('external');
    expect(prod.components.find((c) => c.name === 'store')).toBeUndefined();
    expect(prod.s3.insecure).toBe(false);
  });

  it('refuses an external store without an endpoint', () => {
    expect(() => buildStack({ store: 'external' })).toThrow(/S3 endpoint/);
  });

  it('creates every bucket in the one-shot job', () => {
    const job = buildStack().components.find((c) => c.name === 'buckets')!;
    expect(job.oneShot).toBe(true);
    for (const b of buckets) expect(job.args.join(' ')).toContain(b.name);
  });

  it('applies a registry mirror to pulled images and lets an override replace a local build', () => {
    const stack = buildStack({ registryMirror: 'mirror.local:5000', imageOverrides: { demo: 'prebuilt/demo:1', grafana: 'grafana/grafana@sha256:abc' } });
    expect(stack.components.find((c) => c.name === 'tempo')!.image).toBe(`mirror.local:5000/${imageRef(images.tempo)}`);
    expect(stack.components.find((c) => c.name === 'grafana')!.image).toBe('grafana/grafana@sha256:abc');
    const demo = stack.components.find((c) => c.name === 'demo')!;
    expect(demo.image).toBe('prebuilt/demo:1');
    expect(demo.build).toBeUndefined();
  });

  it('moves host ports when asked and keeps container ports', () => {
    const stack = buildStack({ hostPorts: { 'grafana.http': 3001 } });
    const g = stack.published.find((p) => p.component === 'grafana')!;
    expect(g).toMatchObject({ hostPort: 3001, containerPort: 3000 });
  });

  it('never puts a credential value in the model, only references', () => {
    for (const c of buildStack().components) {
      for (const [k, v] of Object.entries(c.env)) {
        if (/PASSWORD|SECRET|ACCESS_KEY/.test(k)) expect(typeof v, `${c.name}.${k}`).toBe('object');
      }
    }
  });
});
