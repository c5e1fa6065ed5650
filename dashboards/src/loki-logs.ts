/**
 * Loki Logs: Loki's own health (job="loki") and the logs it stores. Log levels come from the structured
 * metadata `detected_level`, which Loki 3 adds at ingestion (limits_config.discover_log_levels, on by default).
 */
import {
  customVariable,
  dashboard,
  detectedLevels,
  logql,
  logs,
  lokiVariable,
  prom,
  promVariable,
  quantile,
  row,
  stat,
  sumRate,
  timeseries,
  upMappings,
} from './lib.js';

const loki = 'job="loki", instance=~"$instance"';
const streams = '{service_name=~"$service"}';

export const lokiLogs = () =>
  dashboard({
    uid: 'mop-loki-logs',
    title: 'Loki Logs',
    description: 'Loki: streams, ingestion, query latency, log levels over time and the newest log lines.',
    tags: ['loki'],
    variables: [
      promVariable('instance', 'Loki instance', 'label_values(up{job="loki"}, instance)'),
      lokiVariable('service', 'Service', 'service_name'),
      customVariable('level', 'Level', detectedLevels),
    ],
    items: [
      row('Ingestion'),
      stat({ title: 'Loki up', queries: [prom(`min(up{${loki}})`, '', { instant: true })], mappings: upMappings, steps: [['red'], ['green', 1]], h: 8 }),
      timeseries({
        title: 'Log stream count',
        description: 'Streams (unique label sets) the ingester holds in memory.',
        queries: [prom(`sum(loki_ingester_memory_streams{${loki}})`, 'streams')],
        w: 6,
      }),
      timeseries({
        title: 'Ingestion rate',
        description: 'Log lines per second the distributor received (per tenant), and lines Loki discarded (by reason).',
        queries: [
          prom(sumRate('loki_distributor_lines_received_total', loki, ['tenant']), 'received {{tenant}}'),
          prom(sumRate('loki_discarded_samples_total', loki, ['reason']), 'discarded: {{reason}}'),
        ],
        unit: 'short',
        w: 7,
      }),
      timeseries({
        title: 'Ingested bytes',
        description: 'Bytes per second the distributor received, per tenant.',
        queries: [prom(sumRate('loki_distributor_bytes_received_total', loki, ['tenant']), 'received {{tenant}}')],
        unit: 'Bps',
        w: 7,
      }),
      row('Logs'),
      timeseries({
        title: 'Log volume by service',
        description: 'Lines per service over time: a flood shows up here before anyone reads a line.',
        queries: [logql(`sum by (service_name) (count_over_time(${streams} | detected_level=~"$level" [$__auto]))`, '{{service_name}}')],
        bars: true,
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Log levels over time',
        queries: [logql(`sum by (detected_level) (count_over_time(${streams} | detected_level=~"$level" [$__auto]))`, '{{detected_level}}')],
        bars: true,
        stack: true,
        w: 12,
      }),
      timeseries({
        title: 'Query latency',
        description: 'Latency of LogQL queries (instant and range) by route.',
        queries: [
          prom(quantile(0.99, 'loki_request_duration_seconds', `${loki}, route=~"loki_api_v1_query(_range)?"`, ['route']), 'p99 {{route}}'),
        ],
        unit: 's',
        w: 24,
      }),
      logs({
        title: 'Recent logs',
        description: 'The newest lines from the selected services and levels. Lines carrying a trace_id link to the trace.',
        queries: [logql(`${streams} | detected_level=~"$level"`)],
        h: 14,
      }),
    ],
  });
