/** Preflight warns where the engine lets the LAN reach 127.0.0.1 ports (security review F13, moby/moby#45610). */
import { describe, expect, it } from 'vitest';
import { checkLoopbackIsolation } from '../../scripts/runtimes/preflight.js';

describe('checkLoopbackIsolation', () => {
  it.each(['27.5.1', '26.1.4', '20.10.24'])('warns on a native Docker Engine %s (before 28.0)', (version) => {
    const c = checkLoopbackIsolation({ product: 'dockerd', version });
    expect(c).toMatchObject({ id: 'loopback', ok: false, severity: 'warn' });
    expect(c.detail).toContain('moby/moby#45610');
    expect(c.fix).toContain('28.0');
  });

  it.each(['28.0.0', '28.5.2', '29.1.0'])('passes Docker Engine %s', (version) => {
    expect(checkLoopbackIsolation({ product: 'dockerd', version }).ok).toBe(true);
  });

  it.each(['Docker Desktop', 'OrbStack', 'Colima', 'Rancher Desktop', 'Podman'] as const)('passes %s (the engine is not on the LAN segment)', (product) => {
    expect(checkLoopbackIsolation({ product, version: '27.4.0' }).ok).toBe(true);
  });
});
