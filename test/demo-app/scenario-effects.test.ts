/**
 * Each fault scenario's effect, in process, on a manual clock and a fixed random source: the delay a latency spike
 * adds, the exact share of charges an error burst fails, the lines a log flood writes per second, the MiB the
 * memory leak holds, and when a durationS scenario stops. No timing bands: virtual time makes every number exact.
 * (scenarios.test.ts runs each scenario once in the real demo processes, for behaviour only.)
 */
import { describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createSimulation } from '../../demo-app/lib/simulate.js';
import { createScenarioState } from '../../demo-app/lib/scenario-state.js';
import { createAuthorizer } from '../../demo-app/services/payments-authorize.js';
import { createWarehouseDb } from '../../demo-app/services/inventory-warehouse-db.js';
import { installLogFlood } from '../../demo-app/services/inventory-log-flood.js';
import { installSnapshotCacheLeak } from '../../demo-app/services/orders-snapshot-cache.js';
import { createScenarioRegistry } from '../../demo-app/launcher/scenario-registry.js';
import { manualClock } from '../support/manual-clock.js';

/** A service's surroundings: manual clock, random() always 0.5 (mid-range work, no decline), recorded spans and logs. */
function harness() {
  const clock = manualClock();
  const sim = createSimulation({ clock, random: () => 0.5, scale: 1 });
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('test');
  const records: { level: string; msg: string; attrs: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, attrs: Record<string, unknown> = {}) => void records.push({ level, msg, attrs });
  const log = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  const scenarios = createScenarioState();
  return { clock, sim, tracer, log, records, scenarios, spans: () => exporter.getFinishedSpans() };
}

/** Runs `op` to completion on the manual clock; the virtual milliseconds it took. */
async function elapsed(clock: ReturnType<typeof manualClock>, op: () => Promise<unknown>): Promise<{ ms: number; result: PromiseSettledResult<unknown> }> {
  const from = clock.now();
  let settled: PromiseSettledResult<unknown> | undefined;
  op().then(
    (value) => (settled = { status: 'fulfilled', value }),
    (reason) => (settled = { status: 'rejected', reason }),
  );
  // Step 0.5 ms at a time (the finest simulated work) until it is done; the cap only bounds a bug that never ends.
  for (let i = 0; !settled && i < 1_000_000; i++) await clock.advance(0.5);
  if (!settled) throw new Error('the operation never finished on the manual clock');
  return { ms: clock.now() - from, result: settled };
}

describe('latency-spike (payments)', () => {
  function payments() {
    const h = harness();
    const outcomes: string[] = [];
    let n = 0;
    const authorize = createAuthorizer({ ...h, outcomes: { add: (_: number, a: { outcome: string }) => void outcomes.push(a.outcome) }, newId: () => `pay-${++n}` });
    return { ...h, authorize, outcomes };
  }
  const charge = { orderId: 'o-1', amount: 100, currency: 'EUR' };

  it('adds exactly delayMs to every charge: 37.5 ms of work, 537.5 ms with a 500 ms spike, 37.5 ms again after the stop', async () => {
    const p = payments();
    // fraud check work(3, 12) = 7.5 ms and card network work(15, 45) = 30 ms at random() = 0.5
    expect((await elapsed(p.clock, () => p.authorize(charge))).ms).toBe(37.5);
    p.scenarios.apply({ 'latency-spike': { delayMs: 500, durationS: 0 } });
    const spiked = await elapsed(p.clock, () => p.authorize(charge));
    expect(spiked).toEqual({ ms: 537.5, result: { status: 'fulfilled', value: 'pay-2' } });
    p.scenarios.apply({});
    expect((await elapsed(p.clock, () => p.authorize(charge))).ms).toBe(37.5);
    expect(p.outcomes).toEqual(['approved', 'approved', 'approved']);
    expect(p.spans().filter((s) => s.name === 'payments.authorize').map((s) => s.attributes['payment.outcome'])).toEqual(['approved', 'approved', 'approved']);
  });
});

describe('error-burst (payments)', () => {
  it('fails exactly `rate` of the charges, evenly spread: 38 of 100 at 0.375, each a 503 with an error span and an exception', async () => {
    const h = harness();
    const outcomes: string[] = [];
    const authorize = createAuthorizer({ ...h, outcomes: { add: (_: number, a: { outcome: string }) => void outcomes.push(a.outcome) }, newId: () => 'pay' });
    h.scenarios.apply({ 'error-burst': { rate: 0.375, durationS: 0 } });
    const failedAt: number[] = [];
    for (let i = 1; i <= 100; i++) {
      const { result } = await elapsed(h.clock, () => authorize({ orderId: `o-${i}`, amount: 100, currency: 'EUR' }));
      if (result.status === 'rejected') {
        expect(result.reason).toMatchObject({ status: 503, message: 'card processor unavailable', body: { retryable: true } });
        failedAt.push(i);
      }
    }
    // Evenly spread from a start of random() = 0.5: charge i fails when 0.5 + 0.375·i passes a whole number.
    const evenly = Array.from({ length: 100 }, (_, k) => k + 1).filter((i) => Math.floor(0.5 + 0.375 * i) > Math.floor(0.5 + 0.375 * (i - 1)));
    expect(evenly).toHaveLength(38);
    expect(failedAt).toEqual(evenly);
    expect(outcomes.filter((o) => o === 'error')).toHaveLength(38);
    expect(outcomes.filter((o) => o === 'approved')).toHaveLength(62);
    const errors = h.spans().filter((s) => s.name === 'payments.authorize' && s.status.code === SpanStatusCode.ERROR);
    expect(errors).toHaveLength(38);
    expect(errors.every((s) => s.events.some((e) => e.name === 'exception'))).toBe(true);
  });
});

describe('slow-dependency (inventory)', () => {
  it('adds exactly delayMs to every warehouse query, a client span with the database peer', async () => {
    const h = harness();
    const query = createWarehouseDb(h);
    const run = () => query('SELECT', 'stock', () => 'rows');
    expect(await elapsed(h.clock, run)).toEqual({ ms: 3.5, result: { status: 'fulfilled', value: 'rows' } }); // work(1, 6)
    h.scenarios.apply({ 'slow-dependency': { delayMs: 300, durationS: 0 } });
    expect((await elapsed(h.clock, run)).ms).toBe(303.5);
    h.scenarios.apply({});
    expect((await elapsed(h.clock, run)).ms).toBe(3.5);
    const spans = h.spans();
    expect(spans.map((s) => [s.name, s.kind, s.attributes['peer.service']])).toEqual(Array(3).fill(['SELECT stock', SpanKind.CLIENT, 'warehouse-db']));
  });
});

describe('log-flood (inventory)', () => {
  const FLOOD = 'stock cache entry stale, refetching from warehouse';

  function flood() {
    const h = harness();
    installLogFlood({ ...h, skus: ['SKU-1', 'SKU-2'] });
    return { ...h, lines: () => h.records.filter((r) => r.msg === FLOOD) };
  }

  it('writes exactly `rate` warning lines a second, in one resync span per 100 ms tick, and none after the stop', async () => {
    const f = flood();
    f.scenarios.apply({ 'log-flood': { rate: 300, durationS: 0 } });
    await f.clock.advance(1_000);
    expect(f.lines()).toHaveLength(300);
    expect(f.lines().every((l) => l.level === 'warn' && l.attrs.sku === 'SKU-2' && l.attrs['cache.age_ms'] === 32_500)).toBe(true);
    const resyncs = f.spans().filter((s) => s.name === 'inventory.cache.resync');
    expect(resyncs.map((s) => s.attributes['inventory.cache.stale_entries'])).toEqual(Array(10).fill(30));
    await f.clock.advance(500);
    expect(f.lines()).toHaveLength(450);

    f.scenarios.apply({});
    expect(f.clock.pending()).toBe(0);
    await f.clock.advance(5_000);
    expect(f.lines()).toHaveLength(450);
  });

  it('holds a rate that is not a multiple of the tick (7 a second: 7 after 1 s, 14 after 2 s), and a rate change restarts the count', async () => {
    const f = flood();
    f.scenarios.apply({ 'log-flood': { rate: 7, durationS: 0 } });
    await f.clock.advance(1_000);
    expect(f.lines()).toHaveLength(7);
    await f.clock.advance(1_000);
    expect(f.lines()).toHaveLength(14);
    f.scenarios.apply({ 'log-flood': { rate: 100, durationS: 0 } });
    await f.clock.advance(1_000);
    expect(f.lines()).toHaveLength(114);
    expect(f.clock.pending()).toBe(1);
  });
});

describe('memory-growth (orders)', () => {
  it('holds `rate` MiB a minute, one fill a second starting at once (60 MiB/min: 1, 2, 3, 4 MiB), and frees it all on stop', async () => {
    const h = harness();
    const leak = installSnapshotCacheLeak(h);
    h.scenarios.apply({ 'memory-growth': { rate: 60, durationS: 0 } });
    expect(leak.retainedMib()).toBe(1);
    await h.clock.advance(3_000);
    expect(leak.retainedMib()).toBe(4);
    expect(leak.entries()).toBe(4 * 16); // 64 KiB each
    const grew = h.records.filter((r) => r.msg === 'order snapshot cache grew');
    expect(grew.map((r) => r.attrs['cache.retained_mib'])).toEqual([1, 2, 3, 4]);
    expect(grew.every((r) => r.level === 'warn' && r.attrs['cache.cap_mib'] === 768)).toBe(true);

    h.scenarios.apply({});
    expect([leak.retainedMib(), leak.entries(), h.clock.pending()]).toEqual([0, 0, 0]);
    await h.clock.advance(5_000);
    expect(leak.retainedMib()).toBe(0);
  });
});

describe('durationS (the launcher registry)', () => {
  it('stops a scenario exactly durationS after its start, and a restart moves the end', async () => {
    const clock = manualClock();
    const changes: Record<string, unknown>[] = [];
    const registry = createScenarioRegistry({ onChange: (active) => changes.push(active), clock });
    const started = registry.start('log-flood', { rate: 5, durationS: 2 });
    expect(started).toMatchObject({ ok: true, scenario: { startedAt: new Date(clock.now()).toISOString(), endsAt: new Date(clock.now() + 2_000).toISOString() } });
    await clock.advance(1_000);
    expect(registry.start('log-flood', { rate: 6, durationS: 2 }).ok).toBe(true);
    await clock.advance(1_999);
    expect(registry.snapshot()).toEqual({ 'log-flood': { rate: 6, durationS: 2 } });
    await clock.advance(1);
    expect(registry.snapshot()).toEqual({});
    expect(changes).toEqual([{ 'log-flood': { rate: 5, durationS: 2 } }, { 'log-flood': { rate: 6, durationS: 2 } }, {}]);
    expect(clock.pending()).toBe(0);
  });
});
