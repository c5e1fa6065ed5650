/**
 * An OTLP/HTTP receiver for tests: accepts /v1/traces, /v1/metrics and /v1/logs as protobuf (the SDK default)
 * or JSON (OTEL_EXPORTER_OTLP_PROTOCOL=http/json), gzip or not, and flattens what arrives into spans, log records
 * and metric data points with their resource attributes. Ids come out as lowercase hex either way.
 * The .proto subset is written for this file; field numbers follow opentelemetry-proto, undeclared fields are skipped.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
  ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7; } }
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }

message Status { string message = 2; int32 code = 3; }
message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; }
message Link { bytes trace_id = 1; bytes span_id = 2; repeated KeyValue attributes = 4; }
message Span { bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8; repeated KeyValue attributes = 9;
  repeated Event events = 11; repeated Link links = 13; Status status = 15; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }

message LogRecord { fixed64 time_unix_nano = 1; int32 severity_number = 2; string severity_text = 3; AnyValue body = 5;
  repeated KeyValue attributes = 6; bytes trace_id = 9; bytes span_id = 10; fixed64 observed_time_unix_nano = 11; }
message ScopeLogs { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }

message NumberDataPoint { fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; double as_double = 4; sfixed64 as_int = 6;
  repeated KeyValue attributes = 7; }
message Exemplar { fixed64 time_unix_nano = 2; double as_double = 3; bytes span_id = 4; bytes trace_id = 5; sfixed64 as_int = 6; repeated KeyValue filtered_attributes = 7; }
message HistogramDataPoint { fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4; double sum = 5;
  repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; repeated Exemplar exemplars = 8; repeated KeyValue attributes = 9; }
message Gauge { repeated NumberDataPoint data_points = 1; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; string unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;

const root = protobuf.parse(PROTO).root;
const REQUEST_TYPES: Record<string, protobuf.Type> = {
  '/v1/traces': root.lookupType('otlp.ExportTraceServiceRequest'),
  '/v1/logs': root.lookupType('otlp.ExportLogsServiceRequest'),
  '/v1/metrics': root.lookupType('otlp.ExportMetricsServiceRequest'),
};

export type Attributes = Record<string, unknown>;

export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: number;
  startMs: number;
  durationMs: number;
  attributes: Attributes;
  /** 0 unset, 1 ok, 2 error. */
  statusCode: number;
  events: { name: string; attributes: Attributes }[];
  resource: Attributes;
  scope: string;
  /** Wall-clock time the receiver got it. */
  receivedAt: number;
}

export interface ReceivedLog {
  traceId: string;
  spanId: string;
  body: unknown;
  severityText: string;
  severityNumber: number;
  attributes: Attributes;
  timeMs: number;
  resource: Attributes;
  scope: string;
  receivedAt: number;
}

export interface ReceivedDataPoint {
  attributes: Attributes;
  timeMs: number;
  /** gauge and sum */
  value?: number;
  /** histogram */
  count?: number;
  sum?: number;
  /** Histogram exemplars, ids as lowercase hex. */
  exemplars?: { traceId: string; spanId: string; value: number; timeMs: number }[];
}

export interface ReceivedMetric {
  name: string;
  unit: string;
  type: 'gauge' | 'sum' | 'histogram';
  isMonotonic: boolean;
  dataPoints: ReceivedDataPoint[];
  resource: Attributes;
  scope: string;
  receivedAt: number;
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  metrics: ReceivedMetric[];
  /** Every request: path and content type, e.g. to check the protocol the exporter used. */
  requests: { path: string; contentType: string }[];
  /** Polls `probe` every 50 ms until it returns something truthy; rejects after timeoutMs with `what` in the message. */
  waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

type Json = any; // decoded OTLP: protobufjs objects and OTLP/JSON share the camelCase shape

function anyValue(v: Json): unknown {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return (v.arrayValue.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return attributes(v.kvlistValue.values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

function attributes(kvs: Json[] | undefined): Attributes {
  return Object.fromEntries((kvs ?? []).map((kv: Json) => [kv.key, anyValue(kv.value)]));
}

const nanosToMs = (n: Json) => Number(BigInt(n ?? 0) / 1000n) / 1000;

function decode(path: string, body: Buffer, json: boolean): { doc: Json; id: (v: Json) => string } {
  if (json) return { doc: JSON.parse(body.toString('utf8')), id: (v) => String(v ?? '').toLowerCase() };
  const type = REQUEST_TYPES[path];
  const doc = type.toObject(type.decode(body), { longs: String, bytes: String });
  return { doc, id: (v) => Buffer.from(v ?? '', 'base64').toString('hex') };
}

function flatten(rx: OtlpReceiver, path: string, doc: Json, id: (v: Json) => string) {
  const receivedAt = Date.now();
  if (path === '/v1/traces') {
    for (const rs of doc.resourceSpans ?? []) {
      const resource = attributes(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const startMs = nanosToMs(s.startTimeUnixNano);
          rx.spans.push({
            traceId: id(s.traceId),
            spanId: id(s.spanId),
            parentSpanId: id(s.parentSpanId),
            name: s.name,
            kind: Number(s.kind ?? 0),
            startMs,
            durationMs: nanosToMs(s.endTimeUnixNano) - startMs,
            attributes: attributes(s.attributes),
            statusCode: Number(s.status?.code ?? 0),
            events: (s.events ?? []).map((e: Json) => ({ name: e.name, attributes: attributes(e.attributes) })),
            resource,
            scope: ss.scope?.name ?? '',
            receivedAt,
          });
        }
      }
    }
  } else if (path === '/v1/logs') {
    for (const rl of doc.resourceLogs ?? []) {
      const resource = attributes(rl.resource?.attributes);
      for (const sl of rl.scopeLogs ?? []) {
        for (const l of sl.logRecords ?? []) {
          rx.logs.push({
            traceId: id(l.traceId),
            spanId: id(l.spanId),
            body: anyValue(l.body),
            severityText: l.severityText ?? '',
            severityNumber: Number(l.severityNumber ?? 0),
            attributes: attributes(l.attributes),
            timeMs: nanosToMs(l.timeUnixNano),
            resource,
            scope: sl.scope?.name ?? '',
            receivedAt,
          });
        }
      }
    }
  } else {
    for (const rm of doc.resourceMetrics ?? []) {
      const resource = attributes(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? []) {
        for (const m of sm.metrics ?? []) {
          const type = m.histogram ? 'histogram' : m.sum ? 'sum' : 'gauge';
          const points: Json[] = (m.histogram ?? m.sum ?? m.gauge)?.dataPoints ?? [];
          rx.metrics.push({
            name: m.name,
            unit: m.unit ?? '',
            type,
            isMonotonic: Boolean(m.sum?.isMonotonic),
            dataPoints: points.map((p) => ({
              attributes: attributes(p.attributes),
              timeMs: nanosToMs(p.timeUnixNano),
              ...(type === 'histogram'
                ? {
                    count: Number(p.count ?? 0),
                    sum: Number(p.sum ?? 0),
                    exemplars: (p.exemplars ?? []).map((e: Json) => ({
                      traceId: id(e.traceId),
                      spanId: id(e.spanId),
                      value: e.asDouble !== undefined ? Number(e.asDouble) : Number(e.asInt ?? 0),
                      timeMs: nanosToMs(e.timeUnixNano),
                    })),
                  }
                : { value: p.asDouble !== undefined ? Number(p.asDouble) : Number(p.asInt ?? 0) }),
            })),
            resource,
            scope: sm.scope?.name ?? '',
            receivedAt,
          });
        }
      }
    }
  }
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function emptyReceiver(): OtlpReceiver {
  return {
    url: '',
    spans: [],
    logs: [],
    metrics: [],
    requests: [],
    async waitFor(probe, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = probe();
        if (value) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    close: async () => {},
  };
}

/** @param opts.decode false: only count requests (a cheap sink for benchmarks), nothing lands in spans/logs/metrics. */
export async function startOtlpReceiver(opts: { decode?: boolean } = {}): Promise<OtlpReceiver> {
  const decodeBodies = opts.decode ?? true;
  const rx = emptyReceiver();
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    let body = await readAll(req);
    if (!REQUEST_TYPES[path]) return void res.writeHead(404).end();
    const contentType = String(req.headers['content-type'] ?? '');
    const json = contentType.includes('json');
    rx.requests.push({ path, contentType });
    if (!decodeBodies) return void res.writeHead(200, { 'content-type': contentType }).end(json ? '{}' : Buffer.alloc(0));
    try {
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const { doc, id } = decode(path, body, json);
      flatten(rx, path, doc, id);
    } catch (err) {
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
    }
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : Buffer.alloc(0));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  rx.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  rx.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return rx;
}

const GRPC_SERVICES: Record<string, string> = {
  '/v1/traces': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  '/v1/metrics': '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  '/v1/logs': '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};

/**
 * The same receiver over OTLP/gRPC (OTEL_EXPORTER_OTLP_PROTOCOL=grpc). Its url is http://127.0.0.1:PORT, which
 * the gRPC exporters read as "plaintext". requests[].path is the HTTP path of the signal, contentType "grpc".
 */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  // grpc-js arrives with the @opentelemetry/exporter-*-otlp-grpc dependencies; loaded lazily so HTTP-only users skip it.
  const grpc = await import('@grpc/grpc-js');
  const rx = emptyReceiver();
  const server = new grpc.Server();
  for (const [signal, path] of Object.entries(GRPC_SERVICES)) {
    const raw = (b: Buffer) => b;
    const definition = {
      Export: { path, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw },
    };
    server.addService(definition, {
      Export: (call: { request: Buffer }, callback: (err: Error | null, res?: Buffer) => void) => {
        rx.requests.push({ path: signal, contentType: 'grpc' });
        const { doc, id } = decode(signal, call.request, false);
        flatten(rx, signal, doc, id);
        callback(null, Buffer.alloc(0)); // an empty Export*ServiceResponse
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  rx.url = `http://127.0.0.1:${port}`;
  rx.close = async () => server.forceShutdown();
  return rx;
}
