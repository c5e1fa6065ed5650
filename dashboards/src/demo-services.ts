/**
 * Demo services: rate, errors and duration of the demo shop's HTTP servers per service and route,
 * from the OpenTelemetry SDK histograms (Mimir promotes service.name to the label service_name), the
 * shop's business and runtime metrics that demo-app/SCENARIOS.md points at, and the newest traces and logs.
 *
 * Exemplars: the pinned Node SDK (@opentelemetry/sdk-metrics 2.12.0) records none (its exemplar classes are
 * never wired into the aggregators; sdk-node create-from-config.js: "TODO(5147): exemplar_filter when
 * sdk-metrics package supports it"), so the SDK histograms are queried without exemplars. The dots come
 * from the same requests' server spans: Tempo's span metrics, whose buckets carry a traceID exemplar.
 */
import {
  dashboard,
  exploreLink,
  logql,
  logs,
  prom,
  promVariable,
  quantile,
  ratio,
  row,
  sumRate,
  table,
  timeseries,
  traceql,
  type DashboardSpec,
  type Link,
} from './lib.js';

const server = 'http_server_request_duration_seconds';
/** Tempo's span metrics (labels service, span_name, span_kind, status_code); their buckets carry traceID exemplars. */
const spanLatency = 'traces_spanmetrics_latency';
const serverSpans = 'service=~"$service", span_kind="SPAN_KIND_SERVER"';
const client = 'http_client_request_duration_seconds';
const selected = 'service_name=~"$service", instance=~"$instance"';
const serverErrors = `${selected}, http_response_status_code=~"5.."`;

const byService = ['service_name'];
const byRoute = ['service_name', 'http_request_method', 'http_route'];
const byPeer = ['service_name', 'server_address'];

// Data links: `${__field.labels.x}` is the clicked series' label, encoded for the URL.
const service = '${__field.labels.service_name:percentencode}';
const route = '${__field.labels.http_route:percentencode}';
const logsOf = exploreLink('Logs of ${__field.labels.service_name}', logql(`{service_name="${service}"}`));
const tracesOf = exploreLink('Traces of ${__field.labels.service_name}', traceql(`{ resource.service.name = "${service}" }`));
const routeTracesOf = exploreLink(
  'Traces of ${__field.labels.service_name} ${__field.labels.http_route}',
  traceql(`{ resource.service.name = "${service}" && span.http.route = "${route}" }`),
);

/** Rate, error ratio and p95 duration of the server histogram, grouped by `by`. */
function red(by: string[], legend: string, links: Link[], suffix = ''): DashboardSpec['items'] {
  return [
    timeseries({
      title: `Request rate${suffix}`,
      queries: [prom(sumRate(`${server}_count`, selected, by), legend)],
      unit: 'reqps',
      links,
      w: 8,
    }),
    timeseries({
      title: `Error rate${suffix}`,
      description: 'Share of requests answered with a 5xx status.',
      queries: [prom(ratio(sumRate(`${server}_count`, serverErrors, by), sumRate(`${server}_count`, selected, by)), legend)],
      unit: 'percentunit',
      min: 0,
      links,
      w: 8,
    }),
    timeseries({
      title: `Duration p95${suffix}`,
      description: EXEMPLAR_NOTE,
      queries: [prom(quantile(0.95, server, selected, by), legend), spanExemplars()],
      unit: 's',
      links,
      w: 8,
    }),
  ];
}

const EXEMPLAR_NOTE =
  "p95 of the services' own request histograms, and (\"spans …\") of their server spans from Tempo's span metrics. " +
  'The dots are exemplars of the span metrics: click one to open the trace of that request. ' +
  "The services' own histograms carry no exemplars: the pinned Node SDK (sdk-metrics 2.12) records none.";

/** The p95 of the same services' server spans from Tempo's span metrics, with its exemplars (traceID → Tempo). */
const spanExemplars = () =>
  prom(`label_replace(${quantile(0.95, spanLatency, serverSpans, ['service'])}, "service_name", "$1", "service", "(.*)")`, 'spans {{service_name}}', {
    exemplar: true,
  });

export const demoServices = () =>
  dashboard({
    uid: 'mop-demo-services',
    title: 'Demo services',
    description: 'RED metrics of the demo shop per service and route, with exemplars and links to logs and traces.',
    tags: ['demo'],
    variables: [
      promVariable('service', 'Service', `label_values(${server}_count, service_name)`, { allValue: '.+' }),
      promVariable('instance', 'Instance', `label_values(${server}_count{service_name=~"$service"}, instance)`),
    ],
    items: [
      row('Services'),
      ...red(byService, '{{service_name}}', [logsOf, tracesOf]),
      row('Routes'),
      ...red(byRoute, '{{service_name}} {{http_request_method}} {{http_route}}', [logsOf, routeTracesOf], ' by route'),
      row('Business and runtime'),
      timeseries({
        title: 'Orders by status',
        description: 'Orders per second the orders service placed, by outcome (shop_orders_total).',
        queries: [prom(sumRate('shop_orders_total', selected, ['status']), '{{status}}')],
        unit: 'ops',
        stack: true,
        w: 8,
      }),
      timeseries({
        title: 'Payments by outcome',
        description: 'Charges per second the payments service handled, by outcome (shop_payments_total).',
        queries: [prom(sumRate('shop_payments_total', selected, ['outcome']), '{{outcome}}')],
        unit: 'ops',
        stack: true,
        w: 8,
      }),
      timeseries({
        title: 'Fulfilment',
        description: "Orders the background worker shipped per second, and the orders waiting in its queue.",
        queries: [prom(sumRate('orders_fulfilled_total', selected), 'fulfilled per second'), prom(`sum(orders_queue_depth{${selected}})`, 'queue depth')],
        w: 8,
      }),
      timeseries({
        title: 'Heap used',
        description: 'V8 heap in use per service (demo_process_heap_used_bytes).',
        queries: [prom(`sum by (service_name) (demo_process_heap_used_bytes{${selected}})`, '{{service_name}}')],
        unit: 'bytes',
        links: [logsOf, tracesOf],
      }),
      timeseries({
        title: 'Active fault scenarios',
        description: 'demo_scenario_active: 1 while a fault scenario runs (mop-sandbox scenario start NAME).',
        queries: [prom(`max by (service_name, scenario) (demo_scenario_active{${selected}})`, '{{service_name}} {{scenario}}')],
        min: 0,
        max: 1,
      }),
      row('Downstream calls'),
      timeseries({
        title: 'Outgoing request rate',
        description: 'HTTP calls each service makes, by the server it calls.',
        queries: [prom(sumRate(`${client}_count`, selected, byPeer), '{{service_name}} → {{server_address}}')],
        unit: 'reqps',
        links: [logsOf, tracesOf],
      }),
      timeseries({
        title: 'Outgoing duration p95',
        description: 'p95 of the HTTP client histograms (no exemplars: the Node SDK records none; the Duration p95 panels above show span exemplars).',
        queries: [prom(quantile(0.95, client, selected, byPeer), '{{service_name}} → {{server_address}}')],
        unit: 's',
        links: [logsOf, tracesOf],
      }),
      row('Logs and traces'),
      table({
        title: 'Recent traces',
        description: 'The newest traces of the selected services.',
        queries: [traceql('{ resource.service.name =~ "$service" }')],
        w: 24,
        h: 9,
      }),
      logs({ title: 'Logs', description: 'Lines of the selected services; a line with a trace_id links to its trace.', queries: [logql('{service_name=~"$service"}')] }),
    ],
  });
