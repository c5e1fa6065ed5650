/**
 * The demo's exported telemetry, from real processes: one checkout makes a trace across the services with
 * correct parent links, log records carry its ids, metrics carry the resource and match the metrics catalog,
 * and the load generator holds its rate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOtlpReceiver, SpanKind, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.js';
import { call, checkoutBody, otelTestEnv, repoRoot, startDemo, traceIdOf, type RunningDemo } from './demo-process.js';
import { prometheusLabel, prometheusName, promType } from './prometheus-names.js';
import { renderSpanTree } from './span-tree.js';

const LOAD_RPS = 10;
let rx: OtlpReceiver;
let demo: RunningDemo;

beforeAll(async () => {
  rx = await startOtlpReceiver();
  demo = await startDemo({
    ...otelTestEnv(rx.url),
    DEMO_LOAD_RPS: String(LOAD_RPS),
    OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=ci-test,team=sandbox',
  });
});

afterAll(async () => {
  await demo?.stop();
  await rx?.close();
});

/** A checkout that went through (a few are declined or sold out on purpose, like in a real shop). */
async function successfulCheckout(): Promise<{ traceId: string; orderId: string }> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const res = await call('POST', `${demo.storefront}/api/checkout`, checkoutBody);
    if (res.status === 201) return { traceId: traceIdOf(res.headers), orderId: res.body.orderId };
  }
  throw new Error('10 checkouts in a row failed');
}

const SERVICES = ['storefront', 'orders', 'payments', 'inventory'];
const service = (s: { resource: Record<string, unknown> }) => String(s.resource['service.name']);
const find = (spans: ReceivedSpan[], svc: string, name: string, kind?: number) =>
  spans.find((s) => service(s) === svc && s.name === name && (kind === undefined || s.kind === kind));

describe('one checkout', () => {
  let traceId: string;
  let spans: ReceivedSpan[];

  beforeAll(async () => {
    ({ traceId } = await successfulCheckout());
    // The background worker's "fulfilment process" ends last (after the shipment call it makes), so once it has
    // arrived every span of the trace has ended. Ended is not exported: each service's batch processor sends its
    // spans in the order they end, one batch at a time, on its own timer. So the trace is complete once every
    // service has exported a span of a request sent after that. (A fixed wait here flaked under load: a
    // storefront batch came after it, without the root span.)
    await rx.waitFor(() => find(rx.spans.filter((s) => s.traceId === traceId), 'orders', 'fulfilment process'), `the worker's span of trace ${traceId}`);
    const later = await successfulCheckout();
    await rx.waitFor(
      () => SERVICES.every((svc) => rx.spans.some((s) => s.traceId === later.traceId && service(s) === svc)),
      'a later checkout exported by every service',
    );
    spans = rx.spans.filter((s) => s.traceId === traceId);
    console.log(`trace ${traceId}\n${renderSpanTree(spans)}`);
  });

  it('makes one trace with spans from all four services', () => {
    expect(new Set(spans.map(service))).toEqual(new Set(['storefront', 'orders', 'payments', 'inventory']));
  });

  it('has exactly one root, the storefront server span, and every other parent is in the trace', () => {
    const roots = spans.filter((s) => s.parentSpanId === '');
    expect(roots.map((s) => [service(s), s.name, s.kind])).toEqual([['storefront', 'POST /api/checkout', SpanKind.server]]);
    const ids = new Set(spans.map((s) => s.spanId));
    expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
  });

  it('links each service hop as client span -> server span of the next service', () => {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const hops = spans
      .filter((s) => s.kind === SpanKind.server && s.parentSpanId)
      .map((s) => {
        const parent = byId.get(s.parentSpanId)!;
        expect(parent.kind).toBe(SpanKind.client);
        expect(parent.attributes['server.port']).toBe(s.attributes['server.port']);
        return `${service(parent)} -> ${service(s)} ${s.name}`;
      });
    expect(hops.sort()).toEqual(
      [
        'storefront -> orders POST /orders',
        'orders -> inventory POST /reservations',
        'orders -> payments POST /charges',
        'orders -> inventory POST /shipments',
      ].sort(),
    );
  });

  it('nests the internal spans under the right parents', () => {
    const parentOf = (s: ReceivedSpan | undefined) => spans.find((p) => p.spanId === s?.parentSpanId);
    expect(parentOf(find(spans, 'storefront', 'cart.validate'))?.name).toBe('POST /api/checkout');
    expect(parentOf(find(spans, 'orders', 'orders.place'))?.name).toBe('POST /orders');
    expect(parentOf(find(spans, 'payments', 'payments.fraud_check'))?.name).toBe('payments.authorize');
    expect(parentOf(find(spans, 'payments', 'payments.authorize'))?.name).toBe('POST /charges');
    expect(parentOf(find(spans, 'inventory', 'UPDATE stock', SpanKind.client))?.name).toBe('inventory.reserve');
    const publish = find(spans, 'orders', 'fulfilment publish', SpanKind.producer);
    expect(parentOf(publish)?.name).toBe('orders.place');
    expect(parentOf(find(spans, 'orders', 'fulfilment process', SpanKind.consumer))).toBe(publish);
  });

  it('marks the warehouse database as a downstream peer', () => {
    const db = find(spans, 'inventory', 'SELECT stock', SpanKind.client)!;
    expect(db.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'peer.service': 'warehouse-db', 'db.namespace': 'warehouse' });
  });

  it('sends log records with the trace id and the span id of the span that was active', async () => {
    const expected = ['checkout complete', 'order placed', 'payment approved', 'stock reserved', 'order fulfilled'];
    const logsOf = await rx.waitFor(() => {
      const inTrace = rx.logs.filter((l) => l.traceId === traceId);
      return expected.every((body) => inTrace.some((l) => l.body === body)) && inTrace;
    }, `the log records of trace ${traceId}`);
    const spanOfLog = (svc: string, body: string) => {
      const log = logsOf.find((l) => service(l) === svc && l.body === body);
      expect(log, `${svc} log "${body}"`).toBeDefined();
      return spans.find((s) => s.spanId === log!.spanId)?.name;
    };
    expect(spanOfLog('storefront', 'checkout complete')).toBe('POST /api/checkout');
    expect(spanOfLog('orders', 'order placed')).toBe('orders.place');
    expect(spanOfLog('payments', 'payment approved')).toBe('payments.authorize');
    expect(spanOfLog('inventory', 'stock reserved')).toBe('inventory.reserve');
    expect(spanOfLog('orders', 'order fulfilled')).toBe('fulfilment process');
    const placed = logsOf.find((l) => l.body === 'order placed')!;
    console.log(`log record: ${JSON.stringify(placed, null, 2)}`);
  });

  it('prints the same ids on the stdout logfmt line', () => {
    expect(demo.output()).toMatch(new RegExp(`service=orders trace_id=${traceId} span_id=[0-9a-f]{16} msg="order placed"`));
  });
});

describe('every export', () => {
  it('has a trace id and span id on every log record', async () => {
    await rx.waitFor(() => rx.logs.length > 20, 'log records');
    const bad = rx.logs.filter((l) => !/^[0-9a-f]{32}$/.test(l.traceId) || !/^[0-9a-f]{16}$/.test(l.spanId) || /^0+$/.test(l.traceId));
    expect(bad.map((l) => `${service(l)}: ${l.body}`)).toEqual([]);
  });

  it('carries the resource attributes, with OTEL_RESOURCE_ATTRIBUTES applied', async () => {
    await rx.waitFor(() => rx.metrics.length > 0, 'metrics');
    const resources = [...rx.spans, ...rx.logs, ...rx.metrics].map((x) => x.resource);
    for (const r of resources) {
      expect(r).toMatchObject({ 'service.namespace': 'mop-demo', 'deployment.environment': 'ci-test', team: 'sandbox' });
      expect(r['service.version']).toMatch(/^\d+\.\d+\.\d+/);
    }
    const metricServices = new Set(rx.metrics.map(service));
    expect(metricServices).toEqual(new Set(['storefront', 'orders', 'payments', 'inventory']));
  });

  it('names each service process by service.instance.id (Mimir turns it into the instance label)', async () => {
    await rx.waitFor(() => rx.metrics.length > 0, 'metrics');
    const instances = new Map<string, Set<string>>();
    for (const r of [...rx.spans, ...rx.logs, ...rx.metrics].map((x) => x.resource)) {
      const id = r['service.instance.id'];
      expect(typeof id, String(r['service.name'])).toBe('string');
      instances.set(String(r['service.name']), (instances.get(String(r['service.name'])) ?? new Set()).add(String(id)));
    }
    const ids = [...instances.values()].flatMap((s) => [...s]);
    expect(new Set(ids).size, 'one id per service process').toBe(instances.size);
  });

  it('never traces the exporters themselves', () => {
    const port = new URL(rx.url).port;
    expect(rx.spans.filter((s) => String(s.attributes['server.port']) === port)).toEqual([]);
  });
});

describe('metrics', () => {
  const catalog = JSON.parse(readFileSync(join(repoRoot, 'scripts/stack/metrics-catalog.json'), 'utf8')).demo.metrics as Record<
    string,
    { type: string; otel: string; unit: string; labels: string[] }
  >;

  /** Every metric exported so far, by its Mimir name: type, unit and the labels seen. */
  function exportedByPromName() {
    const out = new Map<string, { otel: string; unit: string; type: string; labels: Set<string> }>();
    for (const m of rx.metrics) {
      const type = promType(m.type, m.isMonotonic);
      const name = prometheusName(m.name, m.unit, type);
      const entry = out.get(name) ?? { otel: m.name, unit: m.unit, type, labels: new Set<string>() };
      for (const p of m.dataPoints) for (const k of Object.keys(p.attributes)) entry.labels.add(prometheusLabel(k));
      out.set(name, entry);
    }
    return out;
  }

  it('exports exactly the metrics in the catalog, with their type, unit and labels', async () => {
    // Every catalog metric appears once the load has placed, paid for and shipped an order.
    const exported = await rx.waitFor(() => {
      const e = exportedByPromName();
      return Object.keys(catalog).every((n) => e.has(n) && catalog[n].labels.every((l) => e.get(n)!.labels.has(l))) && e;
    }, 'every catalog metric with its labels', 15_000);

    for (const [name, spec] of Object.entries(catalog)) {
      const got = exported.get(name)!;
      expect({ name, otel: got.otel, unit: got.unit, type: got.type }).toEqual({ name, otel: spec.otel, unit: spec.unit, type: spec.type });
    }
    // The other direction: nothing exported that a dashboard could not find in the catalog.
    expect([...exported.keys()].filter((n) => !(n in catalog))).toEqual([]);
  });

  it('attaches exemplars exactly where the catalog says (none: the pinned sdk-metrics 2.12 records none)', async () => {
    await rx.waitFor(() => rx.metrics.some((m) => m.type === 'histogram' && m.dataPoints.some((p) => p.count! > 0)), 'a histogram with data');
    const withExemplars = new Set(
      rx.metrics.filter((m) => m.dataPoints.some((p) => (p.exemplars?.length ?? 0) > 0)).map((m) => prometheusName(m.name, m.unit, promType(m.type, m.isMonotonic))),
    );
    const promised = new Set(Object.entries<any>(catalog).filter(([, spec]) => spec.exemplars).map(([name]) => name));
    expect(withExemplars).toEqual(promised);
  });

  it('records request durations in seconds for every service', () => {
    const servers = rx.metrics.filter((m) => m.name === 'http.server.request.duration');
    expect(new Set(servers.map(service))).toEqual(new Set(['storefront', 'orders', 'payments', 'inventory']));
    const checkout = servers
      .flatMap((m) => m.dataPoints)
      .find((p) => p.attributes['http.route'] === '/api/checkout' && p.attributes['http.response.status_code'] === 201)!;
    expect(checkout.count).toBeGreaterThan(0);
    const meanSeconds = checkout.sum! / checkout.count!;
    // A paid checkout sleeps at least 21.5 ms of simulated work (storefront 0.5, orders 1, two stock queries 1 each,
    // fraud check 3, card network 15), so in seconds its mean is above 0.0215, and in milliseconds it would be above
    // 21.5: these bounds tell the unit apart without timing the machine (20 s is no speed limit).
    expect(meanSeconds).toBeGreaterThan(0.0215);
    expect(meanSeconds).toBeLessThan(20);
  });
});

describe('load generator', () => {
  it('keeps sending requests, each a trace rooted at the storefront', async () => {
    // The rate itself is the pacer's (test/demo-app/pacer.test.ts, scripted clock): measuring it here, beside
    // other CPU-heavy test files, would measure the machine.
    const storefrontRoots = () => rx.spans.filter((s) => service(s) === 'storefront' && s.kind === SpanKind.server && !s.parentSpanId);
    const from = Date.now();
    await rx.waitFor(() => storefrontRoots().filter((s) => s.startMs > from).length >= LOAD_RPS, `${LOAD_RPS} storefront root spans`);
  });
});
