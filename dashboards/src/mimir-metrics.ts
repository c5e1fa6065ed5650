/**
 * Mimir Metrics: active series, sample ingestion, query rate and latency, and storage for the
 * monolithic Mimir the stack runs (every component in one process, job="mimir").
 */
import { dashboard, prom, promVariable, quantile, row, stat, sumRate, timeseries, upMappings } from './lib.js';

const mimir = 'job="mimir", instance=~"$instance"';
/** Instant and range queries through the Prometheus API (mimir-mixin's read routes). */
const queryRoutes = `${mimir}, route=~"(prometheus|api_prom)_api_v1_query(_range)?"`;
/** Remote write and OTLP pushes (mimir-mixin's write routes). */
const writeRoutes = `${mimir}, route=~"api_(v1|prom)_push|otlp_v1_metrics"`;

export const mimirMetrics = () =>
  dashboard({
    uid: 'mop-mimir-metrics',
    title: 'Mimir Metrics',
    description: 'Mimir: active series, ingestion and query rates, query latency percentiles and storage usage.',
    tags: ['mimir'],
    variables: [promVariable('instance', 'Mimir instance', 'label_values(up{job="mimir"}, instance)')],
    items: [
      row('Series and ingestion'),
      stat({ title: 'Mimir up', queries: [prom(`min(up{${mimir}})`, '', { instant: true })], mappings: upMappings, steps: [['red'], ['green', 1]], h: 8 }),
      stat({
        title: 'Active series',
        description: 'Series that received a sample recently, over all tenants; the sparkline shows the trend.',
        queries: [prom(`sum(cortex_ingester_active_series{${mimir}})`, 'active series')],
        h: 8,
      }),
      timeseries({
        title: 'Ingestion rate',
        description: 'Samples and exemplars per second the distributor accepted (remote write and OTLP).',
        queries: [
          prom(sumRate('cortex_distributor_received_samples_total', mimir), 'samples'),
          prom(sumRate('cortex_distributor_received_exemplars_total', mimir), 'exemplars'),
        ],
        unit: 'short',
        w: 8,
        h: 8,
      }),
      timeseries({
        title: 'Write requests',
        description: 'Push requests per second by route (api_v1_push = remote write, otlp_v1_metrics = OTLP).',
        queries: [prom(sumRate('cortex_request_duration_seconds_count', writeRoutes, ['route']), '{{route}}')],
        unit: 'reqps',
        w: 8,
        h: 8,
      }),
      row('Queries'),
      timeseries({
        title: 'Query rate',
        description: 'PromQL instant and range queries per second.',
        queries: [prom(sumRate('cortex_request_duration_seconds_count', queryRoutes, ['route']), '{{route}}')],
        unit: 'reqps',
      }),
      timeseries({
        title: 'Query latency percentiles',
        queries: [0.99, 0.9, 0.5].map((q) => prom(quantile(q, 'cortex_request_duration_seconds', queryRoutes), `p${q * 100}`)),
        unit: 's',
      }),
      row('Storage'),
      timeseries({
        title: 'Storage usage',
        description: 'Bytes of TSDB blocks the ingester keeps on local disk before and after shipping them to object storage.',
        queries: [prom(`sum(cortex_ingester_tsdb_storage_blocks_bytes{${mimir}})`, 'local blocks')],
        unit: 'bytes',
        w: 8,
      }),
      timeseries({
        title: 'Blocks in object storage',
        description: 'Blocks in the bucket per tenant, as the compactor last counted them (updated every few minutes).',
        queries: [prom(`max by (user) (cortex_bucket_blocks_count{${mimir}})`, '{{user}}')],
        w: 8,
      }),
      timeseries({
        title: 'Object storage operations',
        description: 'Bucket operations per second by operation, and failures.',
        queries: [
          prom(sumRate('thanos_objstore_bucket_operations_total', mimir, ['operation']), '{{operation}}'),
          prom(sumRate('thanos_objstore_bucket_operation_failures_total', mimir), 'failures'),
        ],
        unit: 'ops',
        w: 8,
      }),
    ],
  });
