/**
 * Alloy Pipeline: what the OTLP receiver takes in per signal, what the batch processor passes on,
 * how much of it the exporters deliver, and what Alloy costs. Alloy scrapes its own /metrics with job="alloy".
 */
import { dashboard, prom, promVariable, row, stat, sumRate, timeseries, upMappings } from './lib.js';

const alloy = 'job="alloy", instance=~"$instance"';

/** Signal → the suffix the OTel Collector components use in their metric names. */
const signals = { spans: 'spans', 'metric points': 'metric_points', 'log records': 'log_records' } as const;

const perSignal = (metric: (suffix: string) => string) =>
  Object.entries(signals).map(([name, suffix]) => prom(sumRate(metric(suffix), alloy), name));

const exportSuccess = (suffix: string) => {
  const sent = sumRate(`otelcol_exporter_sent_${suffix}_total`, alloy);
  const failed = sumRate(`otelcol_exporter_send_failed_${suffix}_total`, alloy);
  // A failed-items series may not exist before the first failure; `or … * 0` keeps the ratio defined.
  return `${sent} / (${sent} + (${failed} or ${sent} * 0))`;
};

export const alloyPipeline = () =>
  dashboard({
    uid: 'mop-alloy-pipeline',
    title: 'Alloy Pipeline',
    description: 'Grafana Alloy as the OTLP collector: ingestion per signal, batch processor throughput, export success and resource usage.',
    tags: ['alloy'],
    variables: [promVariable('instance', 'Alloy instance', 'label_values(alloy_build_info{job="alloy"}, instance)')],
    items: [
      row('Ingestion'),
      stat({ title: 'Alloy up', queries: [prom(`min(up{${alloy}})`, '', { instant: true })], mappings: upMappings, steps: [['red'], ['green', 1]], h: 8 }),
      timeseries({
        title: 'Telemetry ingestion rate',
        description: 'Items the otelcol.receiver.* components accepted into the pipeline, per signal.',
        queries: perSignal((s) => `otelcol_receiver_accepted_${s}_total`),
        unit: 'short',
        w: 10,
      }),
      timeseries({
        title: 'Refused telemetry',
        description: 'Items the receivers could not push into the pipeline (back pressure or errors).',
        queries: perSignal((s) => `otelcol_receiver_refused_${s}_total`),
        unit: 'short',
        w: 10,
      }),
      row('Processing'),
      timeseries({
        title: 'Processor throughput',
        description: 'Items per second leaving otelcol.processor.batch (sum of the batch sizes).',
        queries: [prom(sumRate('otelcol_processor_batch_batch_send_size_sum', alloy), 'items')],
        unit: 'short',
      }),
      timeseries({
        title: 'Batches sent',
        description: 'Batches per second, and how many were sent because the timeout fired rather than the batch filling up.',
        queries: [
          prom(sumRate('otelcol_processor_batch_batch_send_size_count', alloy), 'batches'),
          prom(sumRate('otelcol_processor_batch_timeout_trigger_send_total', alloy), 'sent on timeout'),
        ],
        unit: 'ops',
      }),
      row('Export'),
      timeseries({
        title: 'Export success rate',
        description: 'Share of items the otelcol.exporter.* components delivered to Tempo, Mimir and Loki.',
        queries: Object.entries(signals).map(([name, suffix]) => prom(exportSuccess(suffix), name)),
        unit: 'percentunit',
        min: 0,
        max: 1,
      }),
      timeseries({
        title: 'Exported telemetry by exporter',
        queries: Object.entries(signals).map(([name, suffix]) =>
          prom(sumRate(`otelcol_exporter_sent_${suffix}_total`, alloy, ['component_id']), `{{component_id}} ${name}`),
        ),
        unit: 'short',
      }),
      timeseries({
        title: 'Remote write samples',
        description: 'Samples prometheus.remote_write sends to Mimir (Alloy and stack self-monitoring).',
        queries: [
          prom(sumRate('prometheus_remote_storage_samples_total', alloy), 'sent'),
          prom(sumRate('prometheus_remote_storage_samples_failed_total', alloy), 'failed'),
        ],
        unit: 'short',
      }),
      timeseries({
        title: 'Loki write bytes',
        description: 'Bytes loki.write sends to Loki (container logs), and the bytes it dropped.',
        queries: [
          prom(sumRate('loki_write_sent_bytes_total', alloy), 'sent'),
          prom(sumRate('loki_write_dropped_bytes_total', alloy), 'dropped'),
        ],
        unit: 'Bps',
      }),
      row('Resource usage'),
      timeseries({
        title: 'CPU usage',
        description: 'CPU used by the Alloy process; 100% is one full core.',
        queries: [prom(`rate(alloy_resources_process_cpu_seconds_total{${alloy}}[$__rate_interval])`, '{{instance}}')],
        unit: 'percentunit',
        w: 8,
      }),
      timeseries({
        title: 'Memory usage',
        queries: [
          prom(`alloy_resources_process_resident_memory_bytes{${alloy}}`, 'RSS {{instance}}'),
          prom(`go_memstats_heap_inuse_bytes{${alloy}}`, 'Go heap in use {{instance}}'),
        ],
        unit: 'bytes',
        w: 8,
      }),
      timeseries({
        title: 'Components by health',
        description: 'Running components per health state; anything but "healthy" needs a look at the Alloy UI (port 12345).',
        queries: [prom(`sum by (health_type) (alloy_component_controller_running_components{${alloy}})`, '{{health_type}}')],
        stack: true,
        w: 8,
      }),
    ],
  });
