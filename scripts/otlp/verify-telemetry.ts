/**
 * The telemetry one `verify` run sends, as plain data: one trace across two services (a client/server pair and an
 * error span), one log record per span carrying its trace and span ids, a counter and a histogram whose data point
 * carries an exemplar pointing at the trace. Everything is marked service.namespace=mop-verify and verify.run=<run id>,
 * so dashboards can leave it out and the checks find exactly this run.
 *
 * Times: the trace starts 35 s before `now` and ends just before it. Tempo's search hides the newest 30 s
 * (query_frontend.query_end_cutoff, default 30s), so a trace starting earlier is searchable at once; the
 * metrics-generator only counts spans that ended within the last 30 s (metrics_ingestion_time_range_slack), so every
 * span ends in the last few seconds. [grafana/tempo modules/frontend/config.go, modules/generator/config.go @v3.0.3]
 */
import { randomBytes } from 'node:crypto';

export const VERIFY_NAMESPACE = 'mop-verify';
export const VERIFY_SERVICES = { client: 'mop-verify-client', server: 'mop-verify-server' } as const;
/** OTLP names; Mimir (otel_metric_suffixes_enabled) stores them as mop_verify_requests_total and mop_verify_request_duration_seconds. */
export const VERIFY_METRICS = {
  counter: { otlp: 'mop.verify.requests', unit: '{request}', prometheus: 'mop_verify_requests_total' },
  histogram: { otlp: 'mop.verify.request.duration', unit: 's', prometheus: 'mop_verify_request_duration_seconds' },
} as const;
export const RUN_ATTRIBUTE = 'verify.run';
/** The run attribute as a Prometheus/Loki label. */
export const RUN_LABEL = 'verify_run';

export type SpanKindName = 'server' | 'client' | 'internal';

export interface VerifySpan {
  service: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  startMs: number;
  endMs: number;
  error?: string;
  attributes: Record<string, string | number>;
}

export interface VerifyLog {
  service: string;
  spanId: string;
  timeMs: number;
  severity: 'INFO' | 'ERROR';
  body: string;
}

export interface VerifyTelemetry {
  runId: string;
  traceId: string;
  startMs: number;
  endMs: number;
  spans: VerifySpan[];
  logs: VerifyLog[];
  metrics: {
    timeMs: number;
    service: string;
    count: number;
    histogram: { bounds: number[]; valueSeconds: number; exemplarSpanId: string };
  };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A trace id whose first byte is not zero (Tempo's search answers drop leading zeros). */
function traceId(): string {
  const id = hex(16);
  return id.startsWith('00') ? `1${id.slice(1)}` : id;
}

export function verifyTelemetry(now: number, runId = hex(4)): VerifyTelemetry {
  const t0 = now - 35_000;
  const id = traceId();
  const [root, call, handle, charge] = [hex(8), hex(8), hex(8), hex(8)];
  const run = { [RUN_ATTRIBUTE]: runId };
  const spans: VerifySpan[] = [
    { service: VERIFY_SERVICES.client, spanId: root, name: 'GET /verify', kind: 'server', startMs: t0, endMs: now - 100, attributes: { ...run, 'http.request.method': 'GET', 'http.route': '/verify', 'http.response.status_code': 500 } },
    { service: VERIFY_SERVICES.client, spanId: call, parentSpanId: root, name: 'POST', kind: 'client', startMs: t0 + 1_000, endMs: now - 300, attributes: { ...run, 'http.request.method': 'POST', 'server.address': VERIFY_SERVICES.server, 'http.response.status_code': 500 } },
    { service: VERIFY_SERVICES.server, spanId: handle, parentSpanId: call, name: 'POST /checkout', kind: 'server', startMs: t0 + 1_100, endMs: now - 400, attributes: { ...run, 'http.request.method': 'POST', 'http.route': '/checkout', 'http.response.status_code': 500 } },
    { service: VERIFY_SERVICES.server, spanId: charge, parentSpanId: handle, name: 'charge card', kind: 'internal', startMs: t0 + 2_000, endMs: now - 500, error: 'card declined (mop-sandbox verify)', attributes: { ...run } },
  ];
  const logs: VerifyLog[] = spans.map((s) => ({
    service: s.service,
    spanId: s.spanId,
    timeMs: s.endMs - 50,
    severity: s.error ? 'ERROR' : 'INFO',
    body: s.error ? `verify ${runId}: ${s.name} failed: ${s.error}` : `verify ${runId}: ${s.name} done`,
  }));
  return {
    runId,
    traceId: id,
    startMs: t0,
    endMs: now,
    spans,
    logs,
    metrics: {
      timeMs: now,
      service: VERIFY_SERVICES.server,
      count: 1,
      histogram: { bounds: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], valueSeconds: (spans[2].endMs - spans[2].startMs) / 1000, exemplarSpanId: handle },
    },
  };
}

export const resourceAttributes = (service: string) => ({ 'service.name': service, 'service.namespace': VERIFY_NAMESPACE });
