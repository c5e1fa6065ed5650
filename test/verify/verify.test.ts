/**
 * verify end to end against a fake LGTM stack (test/support/fake-lgtm.ts: answers shaped like the pinned versions'
 * documented responses, filled only from what arrived) and the project's own OTLP receiver standing in for Alloy's
 * OTLP/HTTP port: the bytes verify sends are decoded there and are what its queries later find. Time runs on a
 * fake clock: retries and timeouts advance it instead of sleeping.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutput, type Sink } from '../../scripts/lib/output.js';
import type { Credentials } from '../../scripts/lib/state.js';
import { buildStack } from '../../scripts/stack/model.js';
import { VERIFY_NAMESPACE, VERIFY_SERVICES } from '../../scripts/otlp/verify-telemetry.js';
import { runVerify, type VerifyReport } from '../../scripts/verify/index.js';
import type { Clock } from '../../scripts/verify/check.js';
import { startFakeLgtm, type FakeFaults } from '../support/fake-lgtm.js';
import { startOtlpReceiver, SpanKind, type OtlpReceiver } from '../support/otlp-receiver.js';

const repoRoot = join(import.meta.dirname, '..', '..');
const credentials: Credentials = { GRAFANA_ADMIN_PASSWORD: 'pw', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's', DEMO_CONTROL_TOKEN: 'token', S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc', S3_TEMPO_SECRET_ACCESS_KEY: 's3-tempo-sec', S3_MIMIR_ACCESS_KEY_ID: 's3-mimir-acc', S3_MIMIR_SECRET_ACCESS_KEY: 's3-mimir-sec', S3_LOKI_ACCESS_KEY_ID: 's3-loki-acc', S3_LOKI_SECRET_ACCESS_KEY: 's3-loki-sec' };
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

export function fakeClock(start = Date.now()): Clock & { slept: number } {
  let t = start;
  const clock = {
    slept: 0,
    now: () => t,
    async sleep(ms: number) {
      t += ms;
      clock.slept += ms;
    },
  };
  return clock;
}

async function verifyAgainstFake(faults: FakeFaults = {}, json = false): Promise<{ report: VerifyReport; text: string; rx: OtlpReceiver; clock: ReturnType<typeof fakeClock>; doc?: any }> {
  const rx = await startOtlpReceiver();
  const fake = await startFakeLgtm(rx, repoRoot, faults);
  closers.push(() => rx.close(), () => fake.close());
  const base = buildStack({ demo: true });
  const hostPorts = Object.fromEntries(base.published.map((p) => [`${p.component}.${p.name}`, fake.port]));
  hostPorts['alloy.otlp-http'] = Number(new URL(rx.url).port);
  const stack = buildStack({ demo: true, hostPorts });
  const lines: string[] = [];
  const sink: Sink = { out: (t) => lines.push(t), err: (t) => lines.push(t), isTTY: false };
  const out = createOutput({ json, sink });
  const clock = fakeClock();
  const report = await runVerify({ stack, credentials, out, signal: new AbortController().signal, clock, intervalMs: 2_000, timeoutMs: 120_000 });
  out.result({ verify: report });
  out.finish(report.ok ? 0 : 1);
  const text = lines.join('');
  return { report, text, rx, clock, doc: json ? JSON.parse(text) : undefined };
}

const status = (r: VerifyReport, id: string) => r.checks.find((c) => c.id === id)?.status;

describe('verify against fixtures of the pinned APIs', () => {
  it('passes every check, and what it sent is a real OTLP trace, logs and metrics carrying the ids it queried', async () => {
    const { report, text, rx, clock } = await verifyAgainstFake();
    expect(report.failed, text).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.checks.every((c) => c.status === 'pass')).toBe(true);
    // The receiver decoded real protobuf: 4 spans over 2 services, a client/server pair, one error span.
    expect(rx.requests.map((r) => r.contentType)).toEqual(['application/x-protobuf', 'application/x-protobuf', 'application/x-protobuf']);
    const trace = rx.spans.filter((s) => s.traceId === report.traceId);
    expect(trace).toHaveLength(4);
    expect(new Set(trace.map((s) => s.resource['service.name']))).toEqual(new Set(Object.values(VERIFY_SERVICES)));
    expect(trace.every((s) => s.resource['service.namespace'] === VERIFY_NAMESPACE)).toBe(true);
    const client = trace.find((s) => s.kind === SpanKind.client)!;
    const server = trace.find((s) => s.parentSpanId === client.spanId)!;
    expect([client.resource['service.name'], server.resource['service.name'], server.kind]).toEqual([VERIFY_SERVICES.client, VERIFY_SERVICES.server, SpanKind.server]);
    expect(trace.filter((s) => s.statusCode === 2)).toHaveLength(1);
    // Every log record carries the trace id and the id of a span of that trace.
    expect(rx.logs).toHaveLength(4);
    expect(rx.logs.every((l) => l.traceId === report.traceId && trace.some((s) => s.spanId === l.spanId))).toBe(true);
    // A counter and a histogram whose data point has an exemplar pointing at the trace.
    const hist = rx.metrics.find((m) => m.type === 'histogram')!;
    expect(rx.metrics.find((m) => m.type === 'sum')?.isMonotonic).toBe(true);
    expect(hist.dataPoints[0].exemplars).toEqual([expect.objectContaining({ traceId: report.traceId, spanId: server.spanId })]);
    // The trace starts before Tempo's 30 s search cutoff and ends within the generator's 30 s slack.
    expect(Math.min(...trace.map((s) => s.startMs))).toBeLessThan(clock.now() - 30_000);
    expect(Math.max(...trace.map((s) => s.startMs + s.durationMs))).toBeGreaterThan(clock.now() - 30_000);
    // The checklist, the Explore links, and which wait dominated.
    expect(text).toMatch(/✓ correlation\s+trace → logs/);
    expect(text).toMatch(/verify passed: \d+ checks/);
    expect(text).toContain(`/explore?schemaVersion=1&panes=`);
    expect(report.links.trace).toContain(report.traceId);
  });

  it('--json: one document with every check, its status, time and detail', async () => {
    const { doc } = await verifyAgainstFake({}, true);
    expect(doc.ok).toBe(true);
    expect(doc.verify.checks.length).toBeGreaterThan(20);
    for (const c of doc.verify.checks) expect(c).toEqual(expect.objectContaining({ id: expect.any(String), stage: expect.any(String), status: 'pass', seconds: expect.any(Number), detail: expect.any(String) }));
    expect(Object.keys(doc.verify.links)).toEqual(['trace', 'logs', 'metric']);
  });

  it('an unknown trace: Tempo checks fail (after retrying to their timeout on the fake clock), correlations that need it are skipped', async () => {
    const { report, text, clock } = await verifyAgainstFake({ unknownTrace: true });
    expect(report.ok).toBe(false);
    expect(status(report, 'tempo.trace')).toBe('fail');
    expect(status(report, 'tempo.traceql')).toBe('fail');
    expect(status(report, 'correlation.trace-to-logs')).toBe('skip');
    expect(status(report, 'correlation.service-graph')).toBe('skip');
    expect(report.checks.find((c) => c.id === 'tempo.trace')!.detail).toMatch(/expected trace [0-9a-f]{32} from http.*\/api\/v2\/traces\/.*; got HTTP 404 \(trace not found\) \(still so after \d+\.\ds, \d+ tries\)/);
    expect(clock.slept).toBeGreaterThanOrEqual(30_000);
    expect(text).toMatch(/verify FAILED: .*tempo\.trace/);
  });

  it('an empty Loki result fails loki.logs and says what it expected', async () => {
    const { report } = await verifyAgainstFake({ emptyLoki: true });
    const c = report.checks.find((x) => x.id === 'loki.logs')!;
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/expected 4 log lines with structured metadata trace_id=[0-9a-f]{32}; got no log lines \(empty result\)/);
    expect(status(report, 'correlation.logs-to-trace')).toBe('skip');
  });

  it.each([401, 403] as const)('Grafana %i fails the datasource and dashboard checks at once (no retrying), naming the status', async (code) => {
    const { report, clock } = await verifyAgainstFake({ grafanaStatus: code });
    expect(report.ok).toBe(false);
    const ds = report.checks.find((c) => c.id === 'grafana.datasource.tempo')!;
    expect(ds.status).toBe('fail');
    expect(ds.got).toContain(`HTTP ${code}`);
    expect(ds.attempts).toBe(1);
    expect(report.checks.find((c) => c.id === 'grafana.dashboards')!.got).toContain(`HTTP ${code}`);
    // The backends themselves still pass.
    expect(status(report, 'tempo.trace')).toBe('pass');
    expect(clock.slept).toBeLessThan(60_000);
  });

  it('a datasource whose health check fails is named with Grafana\'s message', async () => {
    const { report } = await verifyAgainstFake({ unhealthy: ['loki'] });
    const c = report.checks.find((x) => x.id === 'grafana.datasource.loki')!;
    expect(c.status).toBe('fail');
    expect(c.got).toMatch(/^ERROR: Get "http:\/\/loki:3100\/api\/echo": dial tcp/);
    expect(status(report, 'grafana.datasource.tempo')).toBe('pass');
  });

  it('a broken trace-to-logs setting (a line filter on the trace id, which does not search structured metadata) fails verify, naming that link', async () => {
    const { report, text } = await verifyAgainstFake({
      datasourceJson: { tempo: (j) => ({ ...j, tracesToLogsV2: { ...j.tracesToLogsV2, customQuery: false, query: undefined, filterByTraceID: true } }) },
    });
    expect(report.failed).toEqual(['correlation.trace-to-logs']);
    const c = report.checks.find((x) => x.id === 'correlation.trace-to-logs')!;
    expect(c.detail).toMatch(/expected the trace-to-logs query \{service_name="mop-verify-server"\} \|="[0-9a-f]{32}" \(datasource loki\) to find the log of span "charge card"; got no log lines/);
    expect(text).toContain('✗ correlation.trace-to-logs');
  });

  it('a Loki datasource without derived fields fails logs → trace', async () => {
    const { report } = await verifyAgainstFake({ datasourceJson: { loki: (j) => ({ ...j, derivedFields: [] }) } });
    expect(report.failed).toEqual(['correlation.logs-to-trace']);
  });
});
