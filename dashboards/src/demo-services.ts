/**
 * Demo services: rate, errors and duration of the demo shop's HTTP servers per service and route,
 * from the OpenTelemetry SDK histograms (Mimir promotes service.name to the label service_name).
 * Duration panels carry exemplars (trace_id → Tempo); every series links to its service's logs and traces.
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
      description: 'The dots are exemplars: click one to open the trace of that request.',
      queries: [prom(quantile(0.95, server, selected, by), legend, { exemplar: true })],
      unit: 's',
      links,
      w: 8,
    }),
  ];
}

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
        queries: [prom(quantile(0.95, client, selected, byPeer), '{{service_name}} → {{server_address}}', { exemplar: true })],
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
