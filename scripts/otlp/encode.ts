/**
 * OTLP/HTTP protobuf bodies for the three signals.
 *
 * Traces and logs go through the OpenTelemetry JS serializers (@opentelemetry/otlp-transformer), fed the SDK's
 * ReadableSpan / ReadableLogRecord shapes. Metrics cannot: the JS metrics SDK has no exemplars, and its serializer
 * never writes HistogramDataPoint.exemplars (otlp-transformer 0.223 build/src/metrics/protobuf/metrics-serializer.js).
 * So metrics are encoded by protobufjs from the schema below, the subset of opentelemetry-proto v1
 * (opentelemetry/proto/metrics/v1/metrics.proto, common/v1/common.proto, resource/v1/resource.proto) this request
 * uses, with the upstream field numbers.
 */
import { ProtobufLogsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import protobuf from 'protobufjs';
import { resourceAttributes, RUN_ATTRIBUTE, VERIFY_METRICS, type SpanKindName, type VerifyTelemetry } from './verify-telemetry.js';

const SCOPE = { name: 'mop-sandbox-verify', version: '1' };
// @opentelemetry/api SpanKind and SpanStatusCode values (the serializer adds 1 to the kind for the wire).
const KIND: Record<SpanKindName, number> = { internal: 0, server: 1, client: 2 };
const STATUS = { unset: 0, ok: 1, error: 2 };
const SEVERITY = { INFO: 9, ERROR: 17 };

const hr = (ms: number): [number, number] => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

export function encodeTraces(t: VerifyTelemetry): Uint8Array {
  const resources = new Map<string, ReturnType<typeof resourceFromAttributes>>();
  const resource = (service: string) => {
    if (!resources.has(service)) resources.set(service, resourceFromAttributes(resourceAttributes(service)));
    return resources.get(service)!;
  };
  const spans = t.spans.map((s) => ({
    name: s.name,
    kind: KIND[s.kind],
    spanContext: () => ({ traceId: t.traceId, spanId: s.spanId, traceFlags: 1 }),
    parentSpanContext: s.parentSpanId ? { traceId: t.traceId, spanId: s.parentSpanId, traceFlags: 1 } : undefined,
    startTime: hr(s.startMs),
    endTime: hr(s.endMs),
    duration: hr(s.endMs - s.startMs),
    ended: true,
    status: s.error ? { code: STATUS.error, message: s.error } : { code: STATUS.unset },
    attributes: s.attributes,
    links: [],
    events: [],
    resource: resource(s.service),
    instrumentationScope: SCOPE,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  }));
  return ProtobufTraceSerializer.serializeRequest(spans as unknown as Parameters<typeof ProtobufTraceSerializer.serializeRequest>[0])!;
}

export function encodeLogs(t: VerifyTelemetry): Uint8Array {
  const records = t.logs.map((l) => ({
    hrTime: hr(l.timeMs),
    hrTimeObserved: hr(l.timeMs),
    spanContext: { traceId: t.traceId, spanId: l.spanId, traceFlags: 1 },
    severityText: l.severity,
    severityNumber: SEVERITY[l.severity],
    body: l.body,
    resource: resourceFromAttributes(resourceAttributes(l.service)),
    instrumentationScope: SCOPE,
    attributes: { [RUN_ATTRIBUTE]: t.runId },
    droppedAttributesCount: 0,
  }));
  return ProtobufLogsSerializer.serializeRequest(records as unknown as Parameters<typeof ProtobufLogsSerializer.serializeRequest>[0])!;
}

const METRICS_PROTO = `
syntax = "proto3";
package otlp;
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
message KeyValue { string key = 1; AnyValue value = 2; }
message Resource { repeated KeyValue attributes = 1; }
message InstrumentationScope { string name = 1; string version = 2; }
message Exemplar { repeated KeyValue filtered_attributes = 7; fixed64 time_unix_nano = 2; double as_double = 3; bytes span_id = 4; bytes trace_id = 5; }
message NumberDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; sfixed64 as_int = 6; repeated Exemplar exemplars = 5; }
message HistogramDataPoint { repeated KeyValue attributes = 9; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; fixed64 count = 4; double sum = 5;
  repeated fixed64 bucket_counts = 6; repeated double explicit_bounds = 7; repeated Exemplar exemplars = 8; }
message Sum { repeated NumberDataPoint data_points = 1; int32 aggregation_temporality = 2; bool is_monotonic = 3; }
message Histogram { repeated HistogramDataPoint data_points = 1; int32 aggregation_temporality = 2; }
message Metric { string name = 1; string description = 2; string unit = 3; Sum sum = 7; Histogram histogram = 9; }
message ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
message ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
`;
const CUMULATIVE = 2; // AGGREGATION_TEMPORALITY_CUMULATIVE
let requestType: protobuf.Type | undefined;

const kv = (attrs: Record<string, string>) => Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } }));
const nanos = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();

export function encodeMetrics(t: VerifyTelemetry): Uint8Array {
  requestType ??= protobuf.parse(METRICS_PROTO).root.lookupType('otlp.ExportMetricsServiceRequest');
  const m = t.metrics;
  const attrs = kv({ [RUN_ATTRIBUTE]: t.runId });
  const start = nanos(t.startMs);
  const time = nanos(m.timeMs);
  const { bounds, valueSeconds, exemplarSpanId } = m.histogram;
  const bucket = bounds.findIndex((b) => valueSeconds <= b);
  const bucketCounts = Array.from({ length: bounds.length + 1 }, (_, i) => (i === (bucket === -1 ? bounds.length : bucket) ? 1 : 0));
  const body = {
    resourceMetrics: [
      {
        resource: { attributes: kv(resourceAttributes(m.service)) },
        scopeMetrics: [
          {
            scope: SCOPE,
            metrics: [
              {
                name: VERIFY_METRICS.counter.otlp,
                unit: VERIFY_METRICS.counter.unit,
                description: 'mop-sandbox verify requests',
                sum: { aggregationTemporality: CUMULATIVE, isMonotonic: true, dataPoints: [{ attributes: attrs, startTimeUnixNano: start, timeUnixNano: time, asInt: m.count }] },
              },
              {
                name: VERIFY_METRICS.histogram.otlp,
                unit: VERIFY_METRICS.histogram.unit,
                description: 'mop-sandbox verify request duration',
                histogram: {
                  aggregationTemporality: CUMULATIVE,
                  dataPoints: [
                    {
                      attributes: attrs,
                      startTimeUnixNano: start,
                      timeUnixNano: time,
                      count: 1,
                      sum: valueSeconds,
                      bucketCounts,
                      explicitBounds: bounds,
                      exemplars: [
                        {
                          timeUnixNano: time,
                          asDouble: valueSeconds,
                          traceId: Buffer.from(t.traceId, 'hex'),
                          spanId: Buffer.from(exemplarSpanId, 'hex'),
                        },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return requestType.encode(requestType.fromObject(body)).finish();
}
