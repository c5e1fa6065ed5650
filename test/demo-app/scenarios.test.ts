/**
 * Fault scenarios in the real demo processes, switched through the real control API: each one starts, changes what
 * it should in the exported telemetry, and stops. Behaviour only, no timing bands: how much each fault changes
 * (the exact delay, error share, log rate, heap growth, auto-stop) is asserted on a manual clock in
 * scenario-effects.test.ts. The test drives its own traffic (the load generator is off).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, SpanKind, type OtlpReceiver, type ReceivedLog, type ReceivedSpan } from '../support/otlp-receiver.js';
import { call, checkoutBody, otelTestEnv, startDemo, traceIdOf, type RunningDemo } from './demo-process.js';

let rx: OtlpReceiver;
let demo: RunningDemo;

beforeAll(async () => {
  rx = await startOtlpReceiver();
  demo = await startDemo(otelTestEnv(rx.url));
});

afterAll(async () => {
  await demo?.stop();
  await rx?.close();
});

afterEach(async () => {
  await call('POST', `${demo.control}/scenarios/stop`);
});

const service = (s: { resource: Record<string, unknown> }) => String(s.resource['service.name']);
const switchRecords = (name: string, what: 'started' | 'stopped') => rx.logs.filter((l) => l.body === `fault scenario ${name} ${what}`);

/** Starts a scenario and waits until its service has applied it (the service logs the switch). */
async function startScenario(name: string, params: Record<string, number>) {
  const before = switchRecords(name, 'started').length;
  const res = await call('POST', `${demo.control}/scenarios/${name}/start`, params);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return rx.waitFor(() => switchRecords(name, 'started')[before], `${name} to be applied`);
}

/** Stops every scenario and waits until the service of `name` has applied the stop; its record. */
async function stopScenario(name: string) {
  const before = switchRecords(name, 'stopped').length;
  await call('POST', `${demo.control}/scenarios/stop`);
  return rx.waitFor(() => switchRecords(name, 'stopped')[before], `${name} to stop`);
}

/** Sends n requests, `concurrency` at a time; returns status and trace id of each. */
async function traffic(n: number, send: () => Promise<{ status: number; headers: Headers }>, concurrency = 8) {
  const results: { status: number; traceId: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) {
        const res = await send();
        results.push({ status: res.status, traceId: traceIdOf(res.headers) });
      }
    }),
  );
  return results;
}

const checkout = () => call('POST', `${demo.storefront}/api/checkout`, checkoutBody);
const browse = () => call('GET', `${demo.storefront}/api/products`);

/** Spans of the given traces matching `pick`, once each trace has one. */
async function spansOf(traceIds: string[], pick: (s: ReceivedSpan) => boolean, what: string) {
  const wanted = new Set(traceIds);
  return rx.waitFor(() => {
    const found = rx.spans.filter((s) => wanted.has(s.traceId) && pick(s));
    return new Set(found.map((s) => s.traceId)).size === wanted.size && found;
  }, what);
}

const isCharge = (s: ReceivedSpan) => service(s) === 'payments' && s.kind === SpanKind.server && s.name === 'POST /charges';

/** payments' cumulative server-duration histogram for /charges, from its first metrics export after `since`. */
async function chargeHistogram(since: number) {
  await rx.waitFor(() => rx.metrics.some((x) => service(x) === 'payments' && x.receivedAt > since), 'a payments metrics export');
  // All of a service's metrics go out in one export, so the latest histogram is at least as new as that export.
  const latest = rx.metrics.filter((x) => service(x) === 'payments' && x.name === 'http.server.request.duration').at(-1);
  const points = (latest?.dataPoints ?? []).filter((p) => p.attributes['http.route'] === '/charges');
  const total = (filter: (status: unknown) => boolean) =>
    points
      .filter((p) => filter(p.attributes['http.response.status_code']))
      .reduce((acc, p) => ({ count: acc.count + p.count!, sum: acc.sum + p.sum! }), { count: 0, sum: 0 });
  return { all: total(() => true), errors: total((code) => Number(code) >= 500) };
}

/** The latest value of one of orders' gauges (with these attributes) exported after `since`. */
const ordersGauge = (name: string, since: number, attributes: Record<string, string> = {}) =>
  rx.metrics
    .filter((x) => service(x) === 'orders' && x.name === name && x.receivedAt > since)
    .at(-1)
    ?.dataPoints.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value;

describe('control API', () => {
  it('is healthy and lists the five scenarios with their parameters', async () => {
    expect((await call('GET', `${demo.control}/healthz`)).status).toBe(200);
    const { body } = await call('GET', `${demo.control}/scenarios`);
    expect(body.scenarios.map((s: any) => s.name)).toEqual(['latency-spike', 'error-burst', 'slow-dependency', 'log-flood', 'memory-growth']);
    expect(body.scenarios.find((s: any) => s.name === 'error-burst')).toMatchObject({ service: 'payments', active: false, params: { rate: { default: 0.5 } } });
  });

  it('rejects an unknown scenario with the known names, and bad parameters with the allowed range', async () => {
    const unknown = await call('POST', `${demo.control}/scenarios/cpu-burn/start`, {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.known).toContain('log-flood');
    const bad = await call('POST', `${demo.control}/scenarios/error-burst/start`, { rate: 3 });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/rate must be a number from 0 to 1/);
    const extra = await call('POST', `${demo.control}/scenarios/error-burst/start`, { delayMs: 3 });
    expect(extra.status).toBe(400);
  });

  it('stops a scenario by itself after durationS', async () => {
    const stops = switchRecords('log-flood', 'stopped').length;
    const res = await call('POST', `${demo.control}/scenarios/log-flood/start`, { rate: 1, durationS: 1 });
    expect(res.status).toBe(200);
    expect(Date.parse(res.body.started.endsAt) - Date.parse(res.body.started.startedAt)).toBe(1_000);
    await rx.waitFor(() => switchRecords('log-flood', 'stopped').length > stops, 'the automatic stop', 10_000);
    const { body } = await call('GET', `${demo.control}/scenarios`);
    expect(body.scenarios.find((s: any) => s.name === 'log-flood').active).toBe(false);
  });
});

describe('error-burst', () => {
  it('fails the configured share of charges with 503 error spans and a matching 5xx rate', async () => {
    const RATE = 0.3;
    const before = await chargeHistogram(Date.now());
    await startScenario('error-burst', { rate: RATE });
    const results = await traffic(100, checkout, 10);
    const trafficEnd = Date.now();

    // Spans: payments server spans of these checkouts, error status exactly when the answer was 503.
    const reachedPayments = results.filter((r) => r.status !== 409).map((r) => r.traceId);
    const charges = await spansOf(reachedPayments, isCharge, 'payments server spans');
    const failed = charges.filter((s) => s.attributes['http.response.status_code'] === 503);
    expect(failed.every((s) => s.statusCode === 2)).toBe(true);
    // The service spreads failures evenly (error diffusion from a random start), so n charges fail rate·n of them,
    // give or take the one the start decides.
    expect(Math.abs(failed.length - RATE * charges.length)).toBeLessThanOrEqual(1);
    const authorize = rx.spans.filter((s) => s.name === 'payments.authorize' && s.statusCode === 2 && reachedPayments.includes(s.traceId));
    expect(authorize.length).toBe(failed.length);
    expect(authorize[0].events.map((e) => e.name)).toContain('exception');

    // Shoppers see a 502 for each failed charge.
    expect(results.filter((r) => r.status === 502).length).toBe(failed.length);

    // Metrics: the 5xx share of payments' request-duration histogram moved by the same rate.
    const after = await chargeHistogram(trafficEnd);
    const errorShare = (after.errors.count - before.errors.count) / (after.all.count - before.all.count);
    expect(after.all.count - before.all.count).toBe(charges.length);
    expect(errorShare).toBeCloseTo(failed.length / charges.length, 5);

    // And it stops.
    await stopScenario('error-burst');
    const calm = await traffic(20, checkout);
    expect(calm.filter((r) => r.status >= 500)).toEqual([]);
  });
});

describe('latency-spike', () => {
  it('makes every charge take at least the configured delay, in its span and in the duration histogram', async () => {
    const DELAY = 500;
    const before = await chargeHistogram(Date.now());
    await startScenario('latency-spike', { delayMs: DELAY });
    const paid = (await traffic(8, checkout)).filter((r) => r.status !== 409);
    const charges = await spansOf(paid.map((r) => r.traceId), isCharge, 'payments server spans');
    expect(charges.filter((s) => s.durationMs < DELAY).map((s) => s.durationMs)).toEqual([]);
    const after = await chargeHistogram(Date.now());
    expect(after.all.count - before.all.count).toBe(charges.length);
    expect((after.all.sum - before.all.sum) / charges.length).toBeGreaterThanOrEqual(DELAY / 1000);
  });
});

describe('slow-dependency', () => {
  it("makes every inventory database span, and every storefront request waiting on one, take at least the delay", async () => {
    const DELAY = 300;
    await startScenario('slow-dependency', { delayMs: DELAY });
    const ids = (await traffic(8, browse)).map((r) => r.traceId);
    const db = await spansOf(ids, (s) => service(s) === 'inventory' && s.name === 'SELECT stock' && s.kind === SpanKind.client, 'database spans');
    const front = await spansOf(ids, (s) => service(s) === 'storefront' && s.kind === SpanKind.server, 'storefront spans');
    expect(db.filter((s) => s.durationMs < DELAY).map((s) => s.durationMs)).toEqual([]);
    expect(front.filter((s) => s.durationMs < DELAY).map((s) => s.durationMs)).toEqual([]);
  });
});

describe('log-flood', () => {
  const isFlood = (l: ReceivedLog) => service(l) === 'inventory' && l.body === 'stock cache entry stale, refetching from warehouse';

  it('makes inventory export warning records, each in a resync span, and none after the stop', async () => {
    await startScenario('log-flood', { rate: 300 });
    const flood = await rx.waitFor(() => rx.logs.filter(isFlood).length >= 100 && rx.logs.filter(isFlood), '100 flood records');
    expect(flood.filter((l) => l.severityText !== 'WARN' || !/^[0-9a-f]{32}$/.test(l.traceId))).toEqual([]);
    const resyncs = await spansOf([...new Set(flood.map((l) => l.traceId))], (s) => s.name === 'inventory.cache.resync', 'the resync spans');
    const resyncIds = new Set(resyncs.map((s) => s.spanId));
    expect(flood.filter((l) => !resyncIds.has(l.spanId))).toEqual([]);

    // The loop stops before the service logs the stop, so no flood record may be newer than that record. Another
    // inventory record after it (a checkout's "stock reserved") shows the exports after the stop have arrived.
    const stopped = await stopScenario('log-flood');
    const traceId = traceIdOf((await checkout()).headers);
    await rx.waitFor(() => rx.logs.some((l) => l.traceId === traceId && service(l) === 'inventory'), 'an inventory record after the stop');
    expect(rx.logs.filter((l) => isFlood(l) && l.timeMs > stopped.timeMs).length).toBe(0);
  });
});

describe('memory-growth', () => {
  it('grows the orders heap, flags the scenario as active, and clears the flag on stop', async () => {
    const since = Date.now();
    const baseline = await rx.waitFor(() => ordersGauge('demo.process.heap.used', since), 'an orders heap export');
    await startScenario('memory-growth', { rate: 1_800 }); // 30 MiB a second, capped at 768 MiB
    const GROWTH = 60 * 2 ** 20;
    await rx.waitFor(() => (ordersGauge('demo.process.heap.used', since) ?? 0) > baseline + GROWTH, 'the orders heap to grow by 60 MiB', 20_000);
    expect(ordersGauge('demo.scenario.active', since, { scenario: 'memory-growth' })).toBe(1);

    await stopScenario('memory-growth');
    const stoppedAt = Date.now();
    await rx.waitFor(() => ordersGauge('demo.scenario.active', stoppedAt, { scenario: 'memory-growth' }) === 0, 'the flag to clear');
  });
});
