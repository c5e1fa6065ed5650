import { describe, expect, it } from 'vitest';
import { httpProbe, NotReady, waitForReady, type Observation } from '../../scripts/runtimes/readiness.js';
import type { ComponentName } from '../../scripts/stack/model.js';

/** A scripted world: each component becomes ready (or fails) at a given tick. */
function script(plan: Partial<Record<ComponentName, { readyAt?: number; failAt?: number; startedAt?: number }>>) {
  let tick = 0;
  const seen: ComponentName[][] = [];
  return {
    seen,
    observe: async (pending: ComponentName[]) => {
      seen.push([...pending]);
      const m = new Map<ComponentName, Observation>();
      for (const n of pending) {
        const p = plan[n] ?? {};
        if (p.failAt !== undefined && tick >= p.failAt) m.set(n, { kind: 'failed', reason: 'exited with code 2', exitCode: 2 });
        else if (p.readyAt !== undefined && tick >= p.readyAt) m.set(n, { kind: 'ready' });
        else m.set(n, { kind: 'waiting', detail: tick >= (p.startedAt ?? 0) ? 'starting' : 'waiting for buckets', started: tick >= (p.startedAt ?? 0) });
      }
      tick++;
      return m;
    },
    clock: () => tick * 1000,
  };
}

const base = { startedAt: 0, intervalMs: 0, signal: new AbortController().signal };

describe('waiting for readiness', () => {
  it('waits for all components at once and records each time to ready', async () => {
    const s = script({ store: { readyAt: 1 }, tempo: { readyAt: 3 }, grafana: { readyAt: 2 } });
    const order: string[] = [];
    const ready = await waitForReady({ ...base, components: ['store', 'tempo', 'grafana'], observe: s.observe, now: s.clock, timeoutMs: 60_000, onReady: (n) => order.push(n) });
    expect(ready).toEqual({ store: 2, grafana: 3, tempo: 4 });
    expect(order).toEqual(['store', 'grafana', 'tempo']);
    // Every tick looks at all still-pending components, not one after the other.
    expect(s.seen[0]).toEqual(['store', 'tempo', 'grafana']);
    expect(s.seen[2]).toEqual(['tempo', 'grafana']);
  });

  it('stops at the first component that fails and names it', async () => {
    const s = script({ store: { readyAt: 0 }, mimir: { failAt: 2 }, tempo: { readyAt: 10 } });
    const err = await waitForReady({ ...base, components: ['store', 'mimir', 'tempo'], observe: s.observe, now: s.clock, timeoutMs: 60_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(NotReady);
    expect(err).toMatchObject({ components: ['mimir'], reason: 'failed', detail: 'exited with code 2', exitCode: 2 });
    expect(s.seen).toHaveLength(3);
  });

  it('at the deadline blames the components that started but are not ready, not those waiting on them', async () => {
    const s = script({ store: { readyAt: 0 }, tempo: { startedAt: 1 }, alloy: { startedAt: 99 } });
    const err = await waitForReady({ ...base, components: ['store', 'tempo', 'alloy'], observe: s.observe, now: s.clock, timeoutMs: 5000 }).catch((e) => e);
    expect(err).toMatchObject({ components: ['tempo'], reason: 'timeout' });
    expect(err.detail).toBe('not ready after 5s (tempo: starting)');
  });

  it('reports the start command failing when no component explains it', async () => {
    const s = script({ store: { readyAt: 0 } });
    const err = await waitForReady({
      ...base,
      components: ['store', 'tempo'],
      observe: s.observe,
      now: s.clock,
      timeoutMs: 60_000,
      external: () => new Error('Error response from daemon: driver failed programming external connectivity'),
    }).catch((e) => e);
    expect(err).toMatchObject({ reason: 'external', components: ['tempo'] });
    expect(err.detail).toMatch(/driver failed/);
  });

  it('stops at once when aborted (Ctrl-C) during the wait between two looks', async () => {
    const ac = new AbortController();
    const s = script({});
    // Ctrl-C right after the first look, while it waits a minute for the next: only an abortable wait ends before the
    // test's own timeout, and no second look happens.
    const observe = async (pending: ComponentName[]) => {
      setImmediate(() => ac.abort(new Error('interrupted')));
      return s.observe(pending);
    };
    await expect(waitForReady({ components: ['tempo'], observe, startedAt: Date.now(), timeoutMs: 120_000, intervalMs: 60_000, signal: ac.signal })).rejects.toThrow('interrupted');
    expect(s.seen).toEqual([['tempo']]);
  });

  it('reports waiting details only when they change', async () => {
    const s = script({ tempo: { readyAt: 4, startedAt: 2 } });
    const details: string[] = [];
    await waitForReady({ ...base, components: ['tempo'], observe: s.observe, now: s.clock, timeoutMs: 60_000, onWaiting: (_, d) => details.push(d) });
    expect(details).toEqual(['waiting for buckets', 'starting']);
  });
});

describe('the HTTP readiness probe', () => {
  it('says how long it waited when a server accepts but does not answer', async () => {
    const { createServer } = await import('node:http');
    const held: import('node:http').ServerResponse[] = [];
    const server = createServer((_req, res) => void held.push(res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as import('node:net').AddressInfo).port;
    try {
      expect(await httpProbe(`http://127.0.0.1:${port}/ready`, 300)).toEqual({ error: 'no answer within 0.3s' });
      held.splice(0).forEach((res) => res.end());
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
