/**
 * The provisioned dashboards (dashboards/*.json, built by dashboards/src): fresh, valid against the
 * SDK's schema, every query parses with Grafana's own grammars, every datasource is provisioned,
 * every metric is in the catalog, and every panel the issue asks for is there.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { dashboards, render } from '../../dashboards/src/index.js';
import {
  checkDatasources,
  checkExemplars,
  checkLayout,
  checkMetrics,
  checkPanelsExist,
  checkQuerySyntax,
  checkSchema,
  contractDatasources,
  exemplarLinkLabels,
  explorePanes,
  flattenCatalog,
  panelsOf,
  provisionedDatasources,
  queriesOf,
} from './checks.js';
import { skipGroup } from '../support/skips.js';
import { createValidators, generateDashboardSchema, type Validators } from './schema.js';

const dashboardsDir = fileURLToPath(new URL('../../dashboards/', import.meta.url));
const grafanaConfigDir = fileURLToPath(new URL('../../config/grafana/', import.meta.url));
const catalog = flattenCatalog(JSON.parse(readFileSync(new URL('../../scripts/stack/metrics-catalog.json', import.meta.url), 'utf8')));
const committed = (file: string) => JSON.parse(readFileSync(dashboardsDir + file, 'utf8'));
const files = Object.keys(dashboards);

/**
 * The panels shared/seed/grafana-stack-deployment-guide.md ("Dashboards") and issue 5 list, with the
 * panel title(s) that provide each one.
 */
const seedPanels: Record<string, Record<string, string[]>> = {
  'obi-overview.json': {
    'OBI agent status': ['OBI agent status'],
    'Active agents count': ['Active agents'],
    'Recent traces': ['Recent traces'],
    'Error logs': ['Error logs'],
    'Log level distribution': ['Log level distribution'],
  },
  'alloy-pipeline.json': {
    'Telemetry ingestion rates': ['Telemetry ingestion rate'],
    'Processor throughput': ['Processor throughput'],
    'Export success rates': ['Export success rate'],
    'Resource usage': ['CPU usage', 'Memory usage'],
  },
  'tempo-tracing.json': {
    'Service map': ['Service map'],
    'Span ingestion rate': ['Span ingestion rate'],
    'Query latency': ['Query latency'],
    'Recent traces table': ['Recent traces'],
  },
  'mimir-metrics.json': {
    'Active series count': ['Active series'],
    'Ingestion/query rates': ['Ingestion rate', 'Query rate'],
    'Query latency percentiles': ['Query latency percentiles'],
    'Storage usage': ['Storage usage'],
  },
  'loki-logs.json': {
    'Log stream count': ['Log stream count'],
    'Ingestion rate': ['Ingestion rate'],
    'Log levels over time': ['Log levels over time'],
    'Recent logs viewer': ['Recent logs'],
  },
  'demo-services.json': {
    'rate per service and route': ['Request rate', 'Request rate by route'],
    'errors per service and route': ['Error rate', 'Error rate by route'],
    'duration per service and route': ['Duration p95', 'Duration p95 by route'],
  },
};

const uids: Record<string, string> = {
  'obi-overview.json': 'mop-obi-overview',
  'alloy-pipeline.json': 'mop-alloy-pipeline',
  'tempo-tracing.json': 'mop-tempo-tracing',
  'mimir-metrics.json': 'mop-mimir-metrics',
  'loki-logs.json': 'mop-loki-logs',
  'demo-services.json': 'mop-demo-services',
};

const panel = (dashboard: any, title: string) => panelsOf(dashboard).find((p) => p.title === title);

let validators: Validators;
beforeAll(() => {
  validators = createValidators(generateDashboardSchema());
});

describe('dashboard files', () => {
  // Grafana's file provider loads every .json under the folder, subfolders included.
  it('are exactly the six dashboards (nothing else Grafana would try to load), each built from dashboards/src', () => {
    const jsonFiles = readdirSync(dashboardsDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
    expect(jsonFiles.sort()).toEqual(files.slice().sort());
    expect(Object.keys(seedPanels).sort()).toEqual(files.slice().sort());
  });

  it.each(files)('%s is up to date with its source', (file) => {
    const fresh = render(dashboards[file]());
    const current = readFileSync(dashboardsDir + file, 'utf8');
    expect(current === fresh, `dashboards/${file} is stale: run  npx tsx dashboards/src/build.ts  and commit the result`).toBe(true);
  });

  it.each(files)('%s has its fixed uid and the mop-sandbox tag', (file) => {
    const d = committed(file);
    expect(d.uid).toBe(uids[file]);
    expect(d.tags).toContain('mop-sandbox');
    expect(d.title).toBeTruthy();
  });

  it('uids and titles are unique across dashboards', () => {
    const all = files.map(committed);
    expect(new Set(all.map((d) => d.uid)).size).toBe(all.length);
    expect(new Set(all.map((d) => d.title)).size).toBe(all.length);
  });
});

describe.each(files)('%s', (file) => {
  const d = committed(file);

  it('validates against the schema generated from the SDK types', () => {
    expect(checkSchema(d, validators)).toEqual([]);
  });

  it('every query parses with the PromQL, LogQL and TraceQL grammars Grafana uses', () => {
    const { queries } = queriesOf(d, contractDatasources);
    expect(queries.length).toBeGreaterThan(0);
    expect(checkQuerySyntax(d, contractDatasources)).toEqual([]);
  });

  it('every datasource is a provisioned uid', () => {
    expect(checkDatasources(d, contractDatasources)).toEqual([]);
  });

  it('every metric is in scripts/stack/metrics-catalog.json, with its labels and type respected', () => {
    expect(checkMetrics(d, contractDatasources, catalog)).toEqual([]);
  });

  it('asks for exemplars only from series that carry them, with a label Grafana links to Tempo', () => {
    expect(checkExemplars(d, catalog, exemplarLinkLabels(grafanaConfigDir))).toEqual([]);
  });

  it('has every panel the seed lists', () => {
    expect(checkPanelsExist(d, Object.values(seedPanels[file]).flat())).toEqual([]);
  });

  it('has unique panel ids on the grid', () => {
    expect(checkLayout(d)).toEqual([]);
  });
});

describe('what the provisioning provider promises', () => {
  const provider = parseYaml(readFileSync(grafanaConfigDir + 'provisioning/dashboards/dashboards.yaml', 'utf8')).providers[0];

  it('a deleted dashboard file removes its dashboard (disableDeletion true would keep an editable copy)', () => {
    expect(provider.disableDeletion).toBe(false);
  });

  it.each(files)('%s is read-only, as the provider saves no UI edits', (file) => {
    expect(provider.allowUiUpdates).toBe(false);
    expect(committed(file).editable).toBe(false);
  });
});

/** Every detected_level Loki 3.7 assigns (grafana/loki pkg/util/constants/levels.go@v3.7.6, LogLevels). */
const lokiLevels = ['unknown', 'debug', 'info', 'warn', 'error', 'fatal', 'critical', 'trace'];

describe('level variables', () => {
  const levelVariables = files.flatMap((file) =>
    committed(file)
      .templating.list.filter((v: any) => v.name === 'level')
      .map((v: any) => [file, v] as const),
  );

  it('exist', () => expect(levelVariables.length).toBeGreaterThan(0));

  it.each(levelVariables)('%s offers every level Loki detects', (_file, v) => {
    expect(String(v.query).split(',').sort()).toEqual(lokiLevels.slice().sort());
  });
});

describe('datasource contract', () => {
  const provisioned = provisionedDatasources(grafanaConfigDir);
  skipGroup('datasource contract check', provisioned.length ? undefined : `no datasources are provisioned under ${grafanaConfigDir}`, { requiredInCI: true });
  it.skipIf(provisioned.length === 0)('config/grafana provisioning declares every datasource the dashboards use', () => {
    for (const ds of contractDatasources) expect(provisioned).toContainEqual(ds);
    for (const file of files) expect(checkDatasources(committed(file), provisioned), file).toEqual([]);
  });
});

describe('what issue 5 asks of particular panels', () => {
  const tempo = committed('tempo-tracing.json');
  const demo = committed('demo-services.json');
  const loki = committed('loki-logs.json');

  it('the service map is a node graph over the Tempo service map query', () => {
    const map = panel(tempo, 'Service map');
    expect(map.type).toBe('nodeGraph');
    expect(map.targets).toEqual([expect.objectContaining({ queryType: 'serviceMap', datasource: { type: 'tempo', uid: 'tempo' } })]);
  });

  it.each([
    ['tempo-tracing.json', 'Recent traces'],
    ['obi-overview.json', 'Recent traces'],
    ['demo-services.json', 'Recent traces'],
  ])('%s "%s" is a table of a TraceQL search', (file, title) => {
    const traces = panel(committed(file), title);
    expect(traces.type).toBe('table');
    expect(traces.targets[0]).toMatchObject({ queryType: 'traceql', tableType: 'traces', datasource: { uid: 'tempo' } });
  });

  it.each([
    ['loki-logs.json', 'Recent logs'],
    ['obi-overview.json', 'Error logs'],
  ])('%s "%s" is a logs panel over Loki', (file, title) => {
    const logs = panel(committed(file), title);
    expect(logs.type).toBe('logs');
    expect(logs.targets[0].datasource).toEqual({ type: 'loki', uid: 'loki' });
  });

  it('log levels come from the level Loki detects at ingestion', () => {
    expect(panel(loki, 'Log levels over time').targets[0].expr).toContain('by (detected_level)');
  });

  it("demo duration panels show exemplars from Tempo's span metrics, not from the SDK histograms that have none", () => {
    for (const title of ['Duration p95', 'Duration p95 by route']) {
      const targets = panel(demo, title).targets;
      expect(targets.filter((t: any) => t.exemplar === true).map((t: any) => t.expr), title).toEqual([
        expect.stringContaining('traces_spanmetrics_latency_bucket{service=~"$service", span_kind="SPAN_KIND_SERVER"}'),
      ]);
      expect(panel(demo, title).description, title).toContain('no exemplars');
    }
  });

  it('demo panels link each service to its logs in Loki and its traces in Tempo', () => {
    for (const title of ['Request rate', 'Error rate', 'Duration p95', 'Request rate by route']) {
      const links = panel(demo, title).fieldConfig.defaults.links;
      const panes = links.flatMap((l: any) => explorePanes(l.url));
      expect(panes.map((p: any) => p.datasource).sort(), title).toEqual(['loki', 'tempo']);
      const queries = panes.flatMap((p: any) => p.queries.map((q: any) => q.expr ?? q.query));
      expect(queries, title).toContainEqual(expect.stringContaining('service_name="${__field.labels.service_name:percentencode}"'));
      expect(queries, title).toContainEqual(expect.stringContaining('resource.service.name = "${__field.labels.service_name:percentencode}"'));
    }
  });

  it('dashboards that a user filters have service and instance variables', () => {
    const names = (file: string) => committed(file).templating.list.map((v: any) => v.name);
    expect(names('demo-services.json')).toEqual(['service', 'instance']);
    expect(names('loki-logs.json')).toEqual(expect.arrayContaining(['service', 'instance']));
    expect(names('obi-overview.json')).toEqual(expect.arrayContaining(['service', 'instance']));
    for (const file of ['alloy-pipeline.json', 'tempo-tracing.json', 'mimir-metrics.json']) expect(names(file)).toContain('instance');
  });
});

/** The checks above must fail on a broken dashboard, or a green run proves nothing. */
describe('the checks catch broken dashboards', () => {
  const broken = (mutate: (d: any) => void) => {
    const d = structuredClone(committed('demo-services.json'));
    mutate(d);
    return d;
  };
  const requestRate = (d: any) => panel(d, 'Request rate');

  it('a PromQL syntax error', () => {
    const d = broken((d) => (requestRate(d).targets[0].expr = 'sum(rate(http_server_request_duration_seconds_count[5m])'));
    expect(checkQuerySyntax(d, contractDatasources)).toEqual([expect.stringContaining('panel "Request rate" target A: promql does not parse')]);
  });

  it('a LogQL syntax error in a logs panel', () => {
    const d = broken((d) => (panel(d, 'Logs').targets[0].expr = '{service_name=~"$service"'));
    expect(checkQuerySyntax(d, contractDatasources)).toEqual([expect.stringContaining('logql does not parse')]);
  });

  it('a TraceQL syntax error inside an Explore link', () => {
    const d = broken((d) => {
      const link = requestRate(d).fieldConfig.defaults.links.find((l: any) => l.url.includes('tempo'));
      link.url = link.url.replace('%20%7D', '');
    });
    expect(checkQuerySyntax(d, contractDatasources)).toEqual([expect.stringMatching(/link .*Explore tempo.*traceql does not parse/)]);
  });

  it('exemplars asked of a series that carries none (the demo SDK histograms)', () => {
    const d = broken((d) => (panel(d, 'Duration p95').targets[0].exemplar = true));
    expect(checkExemplars(d, catalog, exemplarLinkLabels(grafanaConfigDir))).toEqual([
      expect.stringContaining('asks for exemplars, but http_server_request_duration_seconds_bucket carries none'),
    ]);
    expect(checkExemplars(committed('demo-services.json'), catalog, ['trace_id'])).toEqual([
      expect.stringContaining('exemplar label traceID is not linked to Tempo'),
      expect.stringContaining('exemplar label traceID is not linked to Tempo'),
    ]);
  });

  it('a metric that is not in the catalog', () => {
    const d = broken((d) => (requestRate(d).targets[0].expr = 'sum(rate(http_server_requests_total[5m]))'));
    expect(checkMetrics(d, contractDatasources, catalog)).toEqual([expect.stringContaining('metric http_server_requests_total is not in')]);
  });

  it('a label the metric does not have', () => {
    const d = broken((d) => (requestRate(d).targets[0].expr = 'sum(rate(http_server_request_duration_seconds_count{http_status_code="500"}[5m]))'));
    expect(checkMetrics(d, contractDatasources, catalog)).toEqual([expect.stringContaining('has no label http_status_code')]);
  });

  it('_bucket of a metric that is not a histogram, and rate() of a gauge', () => {
    const d = broken((d) => (requestRate(d).targets[0].expr = 'rate(orders_queue_depth_bucket[5m]) + rate(orders_queue_depth[5m])'));
    expect(checkMetrics(d, contractDatasources, catalog)).toEqual([
      expect.stringContaining('orders_queue_depth_bucket is not in'),
      expect.stringContaining('rate() over the gauge orders_queue_depth'),
    ]);
  });

  it('a metric used in a variable query', () => {
    const d = broken((d) => (d.templating.list[0].query = 'label_values(no_such_metric, service_name)'));
    expect(checkMetrics(d, contractDatasources, catalog)).toEqual([expect.stringContaining('variable "service": metric no_such_metric')]);
  });

  it('a datasource uid that is not provisioned', () => {
    const d = broken((d) => (requestRate(d).targets[0].datasource = { type: 'prometheus', uid: 'prometheus' }));
    expect(checkDatasources(d, contractDatasources)).toEqual([expect.stringContaining('datasource uid "prometheus" is not provisioned')]);
  });

  it('a missing seed panel', () => {
    const d = broken((d) => (requestRate(d).title = 'Requests'));
    expect(checkPanelsExist(d, ['Request rate'])).toEqual([expect.stringContaining('no panel titled "Request rate"')]);
  });

  it('schema violations in the dashboard, a panel option and a target', () => {
    const d = broken((d) => {
      d.refreshh = '5s';
      requestRate(d).gridPos.w = 'wide';
      requestRate(d).options.legend.showLegnd = true;
      requestRate(d).targets[0].exemplar = 'yes';
    });
    const problems = checkSchema(d, validators);
    expect(problems).toContainEqual(expect.stringContaining('refreshh'));
    expect(problems).toContainEqual(expect.stringMatching(/gridPos\/w must be number/));
    expect(problems).toContainEqual(expect.stringContaining('options/legend must NOT have additional properties: showLegnd'));
    expect(problems).toContainEqual(expect.stringContaining('target A/exemplar must be boolean'));
  });
});
