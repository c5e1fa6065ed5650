/**
 * OBI Overview: is the eBPF agent running, what does it instrument, and what do the instrumented
 * services produce. OBI pushes its internal metrics over OTLP (OTEL_EBPF_INTERNAL_METRICS_EXPORTER=otel),
 * so there is no `up` series: an agent counts as active while its `obi_internal_build_info` is fresh.
 * Each agent start gets a random service.instance.id, which Mimir stores as the label `instance`.
 */
import {
  dashboard,
  logql,
  logs,
  lokiVariable,
  mergeColumns,
  pie,
  prom,
  promVariable,
  row,
  stat,
  sumRate,
  table,
  timeseries,
  traceql,
} from './lib.js';

const agent = 'instance=~"$instance"';
/** Resource attribute OBI sets on the telemetry it generates (attr.VendorSDKName upstream). */
const obiSpans = '{ resource.telemetry.sdk.name = "opentelemetry-ebpf-instrumentation" }';
const errorLevels = 'detected_level=~"error|critical|fatal"';

export const obiOverview = () =>
  dashboard({
    uid: 'mop-obi-overview',
    title: 'OBI Overview',
    description: 'OpenTelemetry eBPF Instrumentation: agent status, instrumented processes, the traces it produces, and logs.',
    tags: ['obi'],
    variables: [
      promVariable('instance', 'OBI agent (instance id)', 'label_values(obi_internal_build_info, instance)'),
      lokiVariable('service', 'Log service', 'service_name'),
    ],
    items: [
      row('Agents'),
      stat({
        title: 'Active agents',
        description: 'OBI agents whose internal metrics reached Mimir in the last 5 minutes.',
        queries: [prom(`count(group by (instance) (obi_internal_build_info{${agent}})) or vector(0)`, 'agents', { instant: true })],
        steps: [['red'], ['green', 1]],
        w: 4,
        h: 8,
      }),
      table({
        title: 'OBI agent status',
        description: 'Per agent: processes it instruments, and OTLP exports with their errors (per second).',
        queries: [
          prom(`sum by (instance) (obi_instrumented_processes{${agent}})`, '', { instant: true, table: true }),
          prom(sumRate('obi_otel_trace_exports_total', agent, ['instance']), '', { instant: true, table: true }),
          prom(sumRate('obi_otel_metric_exports_total', agent, ['instance']), '', { instant: true, table: true }),
          prom(
            `${sumRate('obi_otel_trace_export_errors_total', agent, ['instance'])} + ${sumRate('obi_otel_metric_export_errors_total', agent, ['instance'])}`,
            '',
            { instant: true, table: true },
          ),
        ],
        transformations: mergeColumns({
          A: 'Instrumented processes',
          B: 'Trace exports/s',
          C: 'Metric exports/s',
          D: 'Export errors/s',
        }),
        w: 10,
        h: 8,
      }),
      timeseries({
        title: 'Instrumented processes',
        queries: [prom(`sum by (process_executable_name) (obi_instrumented_processes{${agent}})`, '{{process_executable_name}}')],
        stack: true,
        w: 10,
        h: 8,
      }),
      timeseries({
        title: 'OTLP exports',
        description: 'Batches OBI sends to Alloy, and the ones that failed.',
        queries: [
          prom(sumRate('obi_otel_trace_exports_total', agent), 'trace exports'),
          prom(sumRate('obi_otel_metric_exports_total', agent), 'metric exports'),
          prom(sumRate('obi_otel_trace_export_errors_total', agent), 'trace export errors'),
          prom(sumRate('obi_otel_metric_export_errors_total', agent), 'metric export errors'),
          prom(sumRate('obi_instrumentation_errors_total', agent), 'instrumentation errors'),
        ],
        unit: 'ops',
        w: 24,
      }),
      row('Traces'),
      table({
        title: 'Recent traces',
        description: 'The newest traces with spans OBI generated. Click a trace id to open it.',
        queries: [traceql(obiSpans)],
        w: 24,
        h: 9,
      }),
      row('Logs'),
      timeseries({
        title: 'Log level distribution',
        description: 'Log lines per level (Loki detects the level at ingestion into the structured metadata detected_level).',
        queries: [logql('sum by (detected_level) (count_over_time({service_name=~"$service"} [$__auto]))', '{{detected_level}}')],
        bars: true,
        stack: true,
        w: 14,
        h: 9,
      }),
      pie({
        title: 'Log levels (time range)',
        queries: [logql('sum by (detected_level) (count_over_time({service_name=~"$service"} [$__range]))', '{{detected_level}}', { instant: true })],
        w: 10,
        h: 9,
      }),
      logs({
        title: 'Error logs',
        description: 'Lines at level error or above from the selected services.',
        queries: [logql(`{service_name=~"$service"} | ${errorLevels}`)],
      }),
    ],
  });
