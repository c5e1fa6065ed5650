/**
 * Tempo Tracing: the service map and span metrics the metrics-generator writes to Mimir, Tempo's own
 * ingestion and query latency (job="tempo"), and the newest traces.
 */
import {
  dashboard,
  nodeGraph,
  prom,
  promVariable,
  quantile,
  row,
  serviceMap,
  stat,
  sumRate,
  table,
  timeseries,
  traceql,
  upMappings,
} from './lib.js';

const tempo = 'job="tempo", instance=~"$instance"';
/** Tempo's HTTP API routes (search, trace by id, tags, metrics), as the tempo-mixin selects them. */
const apiRoutes = `${tempo}, route=~"api_.*"`;

export const tempoTracing = () =>
  dashboard({
    uid: 'mop-tempo-tracing',
    title: 'Tempo Tracing',
    description: 'Service map, span ingestion, query latency and recent traces from Tempo.',
    tags: ['tempo'],
    variables: [promVariable('instance', 'Tempo instance', 'label_values(tempo_build_info{job="tempo"}, instance)')],
    items: [
      row('Services'),
      nodeGraph({
        title: 'Service map',
        description: "Built from the metrics-generator's traces_service_graph_* series in Mimir (Tempo datasource serviceMap).",
        queries: [serviceMap()],
      }),
      timeseries({
        title: 'Span rate by service',
        description: 'Spans per second per service, from the span metrics the metrics-generator writes to Mimir.',
        queries: [prom(sumRate('traces_spanmetrics_calls_total', '', ['service']), '{{service}}')],
        unit: 'ops',
      }),
      timeseries({
        title: 'Service graph requests',
        description: 'Requests between services seen in traces; failed ones on their own series.',
        queries: [
          prom(sumRate('traces_service_graph_request_total', '', ['client', 'server']), '{{client}} → {{server}}'),
          prom(sumRate('traces_service_graph_request_failed_total', '', ['client', 'server']), '{{client}} → {{server}} failed'),
        ],
        unit: 'reqps',
      }),
      row('Ingestion and queries'),
      stat({ title: 'Tempo up', queries: [prom(`min(up{${tempo}})`, '', { instant: true })], mappings: upMappings, steps: [['red'], ['green', 1]], h: 8 }),
      timeseries({
        title: 'Span ingestion rate',
        description: 'Spans the distributor received, and spans Tempo discarded (by reason).',
        queries: [
          prom(sumRate('tempo_distributor_spans_received_total', tempo), 'received'),
          prom(sumRate('tempo_discarded_spans_total', tempo, ['reason']), 'discarded: {{reason}}'),
        ],
        unit: 'ops',
        w: 10,
      }),
      timeseries({
        title: 'Query latency',
        description: 'Latency of Tempo API requests (search, trace by id, tag lookups) by route.',
        queries: [
          prom(quantile(0.99, 'tempo_request_duration_seconds', apiRoutes, ['route']), 'p99 {{route}}'),
          prom(quantile(0.5, 'tempo_request_duration_seconds', apiRoutes, ['route']), 'p50 {{route}}'),
        ],
        unit: 's',
        w: 10,
      }),
      timeseries({
        title: 'Metrics-generator spans',
        description: 'Spans the metrics-generator turned into span metrics and service-graph edges.',
        queries: [prom(sumRate('tempo_metrics_generator_spans_received_total', tempo), 'spans')],
        unit: 'ops',
      }),
      timeseries({
        title: 'Metrics-generator active series',
        description: 'Series the metrics-generator keeps and remote-writes to Mimir.',
        queries: [prom(`sum(tempo_metrics_generator_registry_active_series{${tempo}})`, 'active series')],
      }),
      row('Traces'),
      table({ title: 'Recent traces', description: 'The newest traces; click a trace id to open it.', queries: [traceql('{}')], h: 10 }),
      table({ title: 'Recent error traces', description: 'The newest traces with a span whose status is error.', queries: [traceql('{ status = error }')], h: 10 }),
    ],
  });
