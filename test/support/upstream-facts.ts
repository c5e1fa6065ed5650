/**
 * What the pinned upstream versions do with the telemetry, read from their source, for the correlation tests
 * (test/configs/correlation.test.ts). Each fact names the file it comes from; update it with the pin.
 */

/**
 * Resource attributes Loki 3.7.6 turns into index labels when an OTLP push arrives and no otlp_config says
 * otherwise: `GlobalOTLPConfig.RegisterFlags` in grafana/loki@v3.7.6 pkg/loghttp/push/otlp_config.go
 * (flag -distributor.otlp.default_resource_attributes_as_index_labels, YAML distributor.otlp_config).
 */
export const lokiDefaultIndexedResourceAttributes = [
  'service.name',
  'service.namespace',
  'service.instance.id',
  'deployment.environment',
  'deployment.environment.name',
  'cloud.region',
  'cloud.availability_zone',
  'k8s.cluster.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'k8s.container.name',
  'container.name',
  'k8s.replicaset.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.cronjob.name',
  'k8s.job.name',
];

/**
 * Structured metadata Loki 3.7.6 writes for every OTLP log record that carries the field, whatever otlp_config
 * says: `otlpLogToPushEntry` in grafana/loki@v3.7.6 pkg/loghttp/push/otlp.go (trace_id and span_id hex-encoded
 * from the record's TraceId/SpanId). The validator rejects an entry with structured metadata when
 * limits_config.allow_structured_metadata is false (pkg/distributor/validator.go); the default is true
 * (pkg/validation/limits.go, -validation.allow-structured-metadata).
 */
export const lokiLogRecordMetadata = { traceId: 'trace_id', spanId: 'span_id' } as const;
export const lokiAllowStructuredMetadataDefault = true;

/** Loki writes an attribute name as a label name with every character outside [a-zA-Z0-9_] replaced by `_` (otlptranslator). */
export const lokiLabelName = (attribute: string) => attribute.replace(/[^a-zA-Z0-9_]/g, '_');

/**
 * Series Tempo 3.0.3's metrics-generator writes per processor, with their intrinsic labels:
 * grafana/tempo@v3.0.3 modules/generator/processor/spanmetrics/spanmetrics.go (metric names; intrinsic
 * dimensions service, span_name, span_kind, status_code on by default in config.go) and
 * modules/generator/processor/servicegraphs/servicegraphs.go (client, server, connection_type).
 * Processor names from modules/generator/processor/processor_names.go.
 */
export const tempoGeneratorProcessors: Record<string, { metrics: Record<string, 'counter' | 'histogram'>; labels: string[] }> = {
  'span-metrics': {
    metrics: { traces_spanmetrics_calls_total: 'counter', traces_spanmetrics_latency: 'histogram', traces_spanmetrics_size_total: 'counter' },
    labels: ['service', 'span_name', 'span_kind', 'status_code'],
  },
  'service-graphs': {
    metrics: {
      traces_service_graph_request_total: 'counter',
      traces_service_graph_request_failed_total: 'counter',
      traces_service_graph_request_server_seconds: 'histogram',
      traces_service_graph_request_client_seconds: 'histogram',
    },
    labels: ['client', 'server', 'connection_type'],
  },
};
/** Tempo names the exemplar's trace id label `traceID` unless overrides set trace_id_label_name (modules/generator/registry/histogram.go). */
export const tempoExemplarLabelDefault = 'traceID';
/** Classic `_bucket` series exist unless generate_native_histograms is `native` (modules/generator/registry/interface.go). */
export const tempoClassicHistogramModes = new Set([undefined, 'classic', 'both']);

/**
 * Exemplars that arrive at Mimir over OTLP carry the trace id as `trace_id` (and `span_id`):
 * prometheus/prometheus storage/remote/otlptranslator/prometheusremotewrite/helper.go (traceIDKey), which
 * Mimir's OTLP endpoint uses.
 */
export const otlpExemplarLabels = { traceId: 'trace_id', spanId: 'span_id' } as const;

/**
 * Series Grafana's Tempo service map reads from the datasource's serviceMap.datasourceUid:
 * grafana/grafana public/app/plugins/datasource/tempo/graphTransform.ts (secondsMetric, totalsMetric,
 * failedMetric, histogramMetric) and the table queries next to them (rateMetric, errorRateMetric,
 * durationMetric: span_name, status_code, span_kind).
 */
export const grafanaServiceMapQueries = [
  'traces_service_graph_request_server_seconds_sum',
  'traces_service_graph_request_total',
  'traces_service_graph_request_failed_total',
  'traces_service_graph_request_server_seconds_bucket',
  'sum(rate(traces_spanmetrics_calls_total{span_kind="SPAN_KIND_SERVER"}[5m])) by (span_name)',
  'sum(rate(traces_spanmetrics_calls_total{status_code="STATUS_CODE_ERROR"}[5m])) by (span_name)',
  'histogram_quantile(.9, sum(rate(traces_spanmetrics_latency_bucket{}[5m])) by (le))',
];
