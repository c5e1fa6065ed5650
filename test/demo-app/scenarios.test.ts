/**
 * Fault scenarios, switched through the real control API, each measured in what the services export.
 * The test drives its own traffic (the load generator is off) so the numbers are exact.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, SpanKind, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { call, checkoutBody, otelTestEnv, startDemo, traceIdOf, type RunningDemo } from './demo-process.js';

let rx: OtlpReceiver;
let demo: RunningDemo;

beforeAll(async () => {
  rx = await startOtlpReceiver();
  demo = await startDemo(otelTestEnv(rx.url));
  // Warm up (JIT, keep-alive sockets) so the first baseline is not slower than the rest.
  await traffic(16, checkout);
  await traffic(16, browse);
});

afterAll(async () => {
  await demo?.stop();
  await rx?.close();
});

afterEach(async () => {
  await call('POST', `${demo.control}/scenarios/stop`);
});

const service = (s: { resource: Record<string, unknown> }) => String(s.resource['service.name']);

async function startScenario(name: string, params: Record<string, number>) {
  const res = await call('POST', `${demo.control}/scenarios/${name}/start`, params);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  // The launcher forwards it over IPC; the service logs the switch inside a "scenario.apply" span.
  await rx.waitFor(() => rx.logs.some((l) => l.body === `fault scenario ${name} started` && l.timeMs >= Date.now() - 5_000), `${name} to be applied`);
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
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
    await call('POST', `${demo.control}/scenarios/log-flood/start`, { rate: 1, durationS: 1 });
    const active = async () => (await call('GET', `${demo.control}/scenarios`)).body.scenarios.find((s: any) => s.name === 'log-flood').active;
    expect(await active()).toBe(true);
    await rx.waitFor(() => rx.logs.some((l) => l.body === 'fault scenario log-flood stopped'), 'the automatic stop', 5_000);
    expect(await active()).toBe(false);
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
    // The service spreads failures evenly, so over ~100 charges the share is within a few points of the rate.
    expect(failed.length / charges.length).toBeGreaterThan(RATE - 0.03);
    expect(failed.length / charges.length).toBeLessThan(RATE + 0.03);
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
    await call('POST', `${demo.control}/scenarios/stop`);
    await rx.waitFor(() => rx.logs.some((l) => l.body === 'fault scenario error-burst stopped'), 'the stop');
    const calm = await traffic(20, checkout);
    expect(calm.filter((r) => r.status >= 500)).toEqual([]);
  });
});

describe('latency-spike', () => {
  it('adds the configured delay to payments request durations', async () => {
    const DELAY = 500;
    const measure = async () => {
      const before = await chargeHistogram(Date.now());
      const ok = (await traffic(24, checkout)).filter((r) => r.status !== 409);
      const spans = await spansOf(ok.map((r) => r.traceId), isCharge, 'payments server spans');
      const after = await chargeHistogram(Date.now());
      const meanMs = ((after.all.sum - before.all.sum) / (after.all.count - before.all.count)) * 1000;
      return { spans, medianMs: median(spans.map((s) => s.durationMs)), meanMs };
    };
    const baseline = await measure();
    await startScenario('latency-spike', { delayMs: DELAY });
    const spiked = await measure();
    console.log(
      `latency-spike ${DELAY} ms: median charge span ${baseline.medianMs.toFixed(0)} -> ${spiked.medianMs.toFixed(0)} ms, ` +
        `histogram mean ${baseline.meanMs.toFixed(0)} -> ${spiked.meanMs.toFixed(0)} ms`,
    );
    expect(Math.min(...spiked.spans.map((s) => s.durationMs))).toBeGreaterThanOrEqual(DELAY);
    // Upper bounds are loose: on a busy 2-core runner, timers fire late.
    for (const increase of [spiked.medianMs - baseline.medianMs, spiked.meanMs - baseline.meanMs]) {
      expect(increase).toBeGreaterThan(DELAY * 0.9);
      expect(increase).toBeLessThan(DELAY * 1.4);
    }
  });
});

describe('slow-dependency', () => {
  it("slows inventory's database spans by the configured delay, and the storefront with them", async () => {
    const DELAY = 300;
    const measure = async () => {
      const results = await traffic(16, browse);
      const ids = results.map((r) => r.traceId);
      const db = await spansOf(ids, (s) => service(s) === 'inventory' && s.name === 'SELECT stock', 'database spans');
      const front = await spansOf(ids, (s) => service(s) === 'storefront' && s.kind === SpanKind.server, 'storefront spans');
      return { db: db.map((s) => s.durationMs), front: front.map((s) => s.durationMs) };
    };
    const baseline = await measure();
    await startScenario('slow-dependency', { delayMs: DELAY });
    const slow = await measure();
    const increase = median(slow.db) - median(baseline.db);
    expect(increase).toBeGreaterThan(DELAY * 0.9);
    expect(increase).toBeLessThan(DELAY * 1.4);
    // Every browse waits for one query, so every storefront request is at least that much slower.
    expect(Math.min(...slow.front)).toBeGreaterThanOrEqual(DELAY);
    expect(median(baseline.front)).toBeLessThan(DELAY);
  });
});

describe('log-flood', () => {
  it('makes inventory export about `rate` warning records per second, each with a trace id', async () => {
    const RATE = 300;
    const isFlood = (l: (typeof rx.logs)[number]) => service(l) === 'inventory' && l.body === 'stock cache entry stale, refetching from warehouse';
    await startScenario('log-flood', { rate: RATE });
    const from = Date.now() + 500;
    const windowMs = 2_000;
    await rx.waitFor(() => rx.logs.some((l) => isFlood(l) && l.timeMs > from + windowMs + 300), 'flood records after the window');
    const inWindow = rx.logs.filter((l) => isFlood(l) && l.timeMs >= from && l.timeMs < from + windowMs);
    const perSecond = inWindow.length / (windowMs / 1000);
    expect(perSecond).toBeGreaterThan(RATE * 0.8);
    expect(perSecond).toBeLessThan(RATE * 1.2);
    expect(inWindow.every((l) => l.severityText === 'WARN' && /^[0-9a-f]{32}$/.test(l.traceId))).toBe(true);

    await call('POST', `${demo.control}/scenarios/stop`);
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 800)); // nothing to poll for: this checks that records stop coming
    expect(rx.logs.filter((l) => isFlood(l) && l.timeMs > stoppedAt + 300)).toEqual([]);
  });
});

describe('memory-growth', () => {
  it("grows the orders heap at the configured rate and flags the scenario as active", async () => {
    const RATE_MIB_PER_MIN = 1_800; // 30 MiB/s, so the test sees it within seconds
    const heap = (since: number) =>
      rx.waitFor(() => {
        const m = rx.metrics.filter((x) => service(x) === 'orders' && x.name === 'demo.process.heap.used' && x.receivedAt > since);
        return m.length > 0 && m.at(-1)!.dataPoints[0].value!;
      }, 'an orders heap export');
    const baseline = await heap(Date.now());
    await startScenario('memory-growth', { rate: RATE_MIB_PER_MIN });
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 2_000)); // growth is per second; wait for two ticks of it
    const grown = await heap(Date.now());
    const expectedMib = ((Date.now() - started) / 60_000) * RATE_MIB_PER_MIN;
    const grewMib = (grown - baseline) / 2 ** 20;
    console.log(`memory-growth: orders heap +${grewMib.toFixed(0)} MiB (expected about ${expectedMib.toFixed(0)} MiB)`);
    expect(grewMib).toBeGreaterThan(expectedMib * 0.5);

    const flag = rx.metrics.filter((x) => service(x) === 'orders' && x.name === 'demo.scenario.active').at(-1)!;
    expect(flag.dataPoints.find((p) => p.attributes.scenario === 'memory-growth')?.value).toBe(1);
  });
});
