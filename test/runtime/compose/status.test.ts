/** `status` on compose (scripts/runtimes/compose/status.ts), against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { statusProbeTimeoutMs } from '../../../scripts/runtimes/compose/status.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { credentials, containersFor, hostPortOf, world } from './world.js';

describe('compose runtime: status, down', () => {
  it("probes Mimir's readiness through the gateway's published port (its only health check), and waits while the gateway is missing", async () => {
    const stack = buildStack({ demo: false });
    const mimirReady = `http://127.0.0.1:${hostPortOf(stack, 'mimir', 8080)}/ready`;
    expect(hostPortOf(stack, 'mimir', 8080)).toBe(8080 + 10000 + stack.components.findIndex((c) => c.name === 'gateway'));
    const w = world({ stack, http: (u) => (u === mimirReady ? { status: 503 } : { status: 200 }) });
    const err = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out, readyTimeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_TIMEOUT', why: 'mimir: starting (HTTP 503 from /ready)' });
    expect(w.probes).toContain(mimirReady);
    // No gateway container: Mimir is not taken for ready (it has no other health check), and status says why.
    const gone = world({ stack, existing: containersFor(stack).filter((c) => c.service !== 'gateway') });
    const by = Object.fromEntries((await gone.runtime.status(stack)).map((s) => [s.name, s]));
    expect(by.mimir).toMatchObject({ health: 'unhealthy', detail: 'its port is published by gateway, which is not running' });
    expect(by.gateway).toMatchObject({ state: 'missing' });
  });

  it('reports state, health and URL per component', async () => {
    const stack = buildStack({ demo: false });
    // containersFor publishes container port p on host port p + 10000 + the component's index.
    const lokiReady = `:${hostPortOf(stack, 'loki', 3100)}/ready`;
    const w = world({
      stack,
      existing: containersFor(stack, { mimir: { state: 'exited', exitCode: 137 }, tempo: { state: 'exited', exitCode: 137, oomKilled: true }, alloy: { state: 'exited', exitCode: 2 } }),
      http: (u) => (u.endsWith(lokiReady) ? { status: 503 } : { status: 200 }),
    });
    const list = await w.runtime.status(stack);
    const by = Object.fromEntries(list.map((s) => [s.name, s]));
    expect(w.probes.filter((u) => u.endsWith(lokiReady))).toHaveLength(1);
    expect(by.buckets).toMatchObject({ state: 'completed', health: 'none' });
    // Exit 137 alone is a SIGKILL; only State.OOMKilled is an out-of-memory kill, told with the limit and the setting.
    expect(by.mimir).toMatchObject({ state: 'exited', exitCode: 137, exit: 'killed' });
    expect(by.mimir.detail).toMatch(/^killed \(SIGKILL, exit code 137\), not for its memory limit/);
    expect(by.tempo).toMatchObject({ state: 'exited', exitCode: 137, exit: 'oom' });
    expect(by.tempo.detail).toBe(
      'killed for running out of memory (its limit is 1Gi); raise its limit: MOP_MEMORY_TEMPO=2Gi (or "memory": {"tempo": "2Gi"} in settings.json), then `mop-sandbox up`',
    );
    expect(by.alloy).toMatchObject({ state: 'exited', exitCode: 2, exit: 'crashed', detail: 'crashed (exit code 2); see `mop-sandbox logs alloy`, then `mop-sandbox up`' });
    expect(by.grafana).toMatchObject({ state: 'running', health: 'healthy', url: `http://127.0.0.1:${3000 + 10000 + stack.components.findIndex((c) => c.name === 'grafana')}/` });
    expect(by.loki).toEqual({ name: 'loki', state: 'running', health: 'unhealthy', url: by.loki.url, detail: 'no restarts: /ready answers HTTP 503' });
    expect(by.grafana.detail).toBeUndefined();
    // One look, so a slow answer (a busy laptop) is given longer than a tick of `up`'s wait.
    expect(new Set(w.probeTimeouts)).toEqual(new Set([statusProbeTimeoutMs]));
    expect(await world({}).runtime.status(stack)).toEqual([]);
  });

  it('a backend whose disk filled says so in status (from its log tail), not just "unhealthy"', async () => {
    const stack = buildStack({ demo: false });
    const w = world({
      stack,
      existing: containersFor(stack, { loki: { state: 'exited', exitCode: 1, logs: ['level=info msg="starting"', 'level=error msg="flush chunk: write /loki/chunks/abc: no space left on device"'] } }),
    });
    const loki = (await w.runtime.status(stack)).find((c) => c.name === 'loki')!;
    expect(loki.detail).toContain('its disk is full ("level=error msg="flush chunk: write /loki/chunks/abc: no space left on device"")');
    expect(loki.detail).toContain('free space on that disk');
  });
});
