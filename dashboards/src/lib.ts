/**
 * Small helpers over @grafana/grafana-foundation-sdk so each dashboard file reads as a list of
 * panels and their queries. Everything here returns SDK builders; `dashboard()` builds the JSON.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  CustomVariableBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DashboardLinkBuilder,
  DashboardLinkType,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
  type Dashboard,
  type DashboardLink,
  type DataSourceRef,
  type DataTransformerConfig,
  type Panel,
  type ValueMapping,
} from '@grafana/grafana-foundation-sdk/dashboard';
import * as logsPanel from '@grafana/grafana-foundation-sdk/logs';
import * as loki from '@grafana/grafana-foundation-sdk/loki';
import * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as statPanel from '@grafana/grafana-foundation-sdk/stat';
import * as tablePanel from '@grafana/grafana-foundation-sdk/table';
import * as tempo from '@grafana/grafana-foundation-sdk/tempo';
import * as timeseriesPanel from '@grafana/grafana-foundation-sdk/timeseries';

/** The datasources Grafana provisions (config/grafana/provisioning); the uids are a fixed contract. */
export const datasources = {
  mimir: { type: 'prometheus', uid: 'mimir' },
  tempo: { type: 'tempo', uid: 'tempo' },
  loki: { type: 'loki', uid: 'loki' },
} as const satisfies Record<string, DataSourceRef>;

/**
 * Every value Loki 3.7 gives the structured metadata `detected_level`, most severe first
 * (grafana/loki pkg/util/constants/levels.go@v3.7.6, LogLevels; OTLP severity 21-24 becomes fatal).
 */
export const detectedLevels = ['fatal', 'critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];

/** Every dashboard carries this tag; the dashboards link menu lists them by it. */
export const TAG = 'mop-sandbox';

// ---------------------------------------------------------------------------------------------
// Queries

export type Query = prometheus.DataqueryBuilder | loki.DataqueryBuilder | tempo.DataqueryBuilder;

export function datasourceOf(query: Query): DataSourceRef {
  if (query instanceof prometheus.DataqueryBuilder) return datasources.mimir;
  if (query instanceof loki.DataqueryBuilder) return datasources.loki;
  return datasources.tempo;
}

export interface PromOptions {
  /** One value per series at the end of the range (stat, table, pie). */
  instant?: boolean;
  /** Table format, for table panels that merge several queries. */
  table?: boolean;
  /** Ask Mimir for exemplars; Grafana links their trace_id to Tempo. */
  exemplar?: boolean;
}

/** A PromQL query against Mimir. */
export function prom(expr: string, legend?: string, options: PromOptions = {}): prometheus.DataqueryBuilder {
  const query = new prometheus.DataqueryBuilder().datasource(datasources.mimir).expr(expr);
  if (legend !== undefined) query.legendFormat(legend);
  if (options.instant) query.instant();
  else query.range();
  if (options.table) query.format(prometheus.PromQueryFormat.Table);
  if (options.exemplar) query.exemplar(true);
  return query;
}

/** A LogQL query against Loki: log lines for a logs panel, or a metric query for a graph. */
export function logql(expr: string, legend?: string, options: { instant?: boolean } = {}): loki.DataqueryBuilder {
  const query = new loki.DataqueryBuilder().datasource(datasources.loki).expr(expr);
  if (legend !== undefined) query.legendFormat(legend);
  query.queryType(options.instant ? 'instant' : 'range');
  return query;
}

/** A TraceQL search against Tempo, one row per trace. */
export function traceql(query: string, limit = 20): tempo.DataqueryBuilder {
  return new tempo.DataqueryBuilder()
    .datasource(datasources.tempo)
    .queryType(tempo.TempoQueryType.Traceql)
    .query(query)
    .limit(limit)
    .tableType(tempo.SearchTableType.Traces);
}

/** Tempo's service map: Grafana reads the metrics-generator's service-graph series from Mimir. */
export function serviceMap(): tempo.DataqueryBuilder {
  return new tempo.DataqueryBuilder().datasource(datasources.tempo).queryType(tempo.TempoQueryType.ServiceMap);
}

/** `sum by (labels) (rate(metric{selector}[$__rate_interval]))`, the most common expression here. */
export function sumRate(metric: string, selector = '', by: string[] = []): string {
  const series = selector ? `${metric}{${selector}}` : metric;
  const rate = `rate(${series}[$__rate_interval])`;
  return by.length ? `sum by (${by.join(', ')}) (${rate})` : `sum(${rate})`;
}

/** A quantile over a classic histogram's buckets. */
export function quantile(q: number, histogram: string, selector = '', by: string[] = []): string {
  return `histogram_quantile(${q}, ${sumRate(`${histogram}_bucket`, selector, ['le', ...by])})`;
}

/** The share of `total` that `failed` makes up, 0 (not "no data") when nothing failed. */
export function ratio(failed: string, total: string): string {
  return `(${failed} or ${total} * 0) / ${total}`;
}

// ---------------------------------------------------------------------------------------------
// Links

/** Wraps `text` for a URL but keeps Grafana's `${…}` variables readable and interpolatable. */
function encodeKeepingVariables(text: string): string {
  return encodeURIComponent(text).replace(/%24%7B(.*?)%7D/g, (_m, inner: string) => '${' + decodeURIComponent(inner) + '}');
}

export type Link = cog.Builder<DashboardLink>;

/**
 * The SDK's link builder places every link "inControlsMenu" (the dashboard controls dropdown);
 * without a placement, dashboard links show in the toolbar and data links are unaffected.
 */
function link(builder: DashboardLinkBuilder): Link {
  return {
    build: () => {
      const { placement: _placement, ...rest } = builder.build();
      return rest;
    },
  };
}

/** A link that opens `query` in Explore over the dashboard's time range. */
export function exploreLink(title: string, query: Query): Link {
  const pane = {
    datasource: datasourceOf(query).uid,
    queries: [{ ...query.build(), refId: 'A' }],
    range: { from: '${__from}', to: '${__to}' },
  };
  const url = `/explore?schemaVersion=1&orgId=1&panes=${encodeKeepingVariables(JSON.stringify({ mop: pane }))}`;
  return link(new DashboardLinkBuilder(title).type(DashboardLinkType.Link).url(url).targetBlank(true));
}

// ---------------------------------------------------------------------------------------------
// Panels

interface PanelBuilderLike extends cog.Builder<Panel> {
  title(title: string): this;
  description(description: string): this;
  span(w: number): this;
  height(h: number): this;
  unit(unit: string): this;
  datasource(datasource: DataSourceRef): this;
  withTarget(target: cog.Builder<cog.Dataquery>): this;
  dataLinks(links: Link[]): this;
  transformations(transformations: DataTransformerConfig[]): this;
}

export interface PanelSpec {
  title: string;
  description?: string;
  queries: Query[];
  /** Width in grid columns (24 = full width). */
  w?: number;
  /** Height in grid rows. */
  h?: number;
  unit?: string;
  /** Data links on every field (`${__field.labels.x}` refers to the clicked series). */
  links?: Link[];
  transformations?: DataTransformerConfig[];
}

function setUp<P extends PanelBuilderLike>(panel: P, spec: PanelSpec): P {
  panel.title(spec.title).span(spec.w ?? 12).height(spec.h ?? 8);
  if (spec.description) panel.description(spec.description);
  if (spec.unit) panel.unit(spec.unit);
  const uids = new Set(spec.queries.map((query) => datasourceOf(query).uid));
  if (uids.size > 1) throw new Error(`panel "${spec.title}" mixes datasources (${[...uids].join(', ')})`);
  if (spec.queries[0]) panel.datasource(datasourceOf(spec.queries[0]));
  spec.queries.forEach((query, i) => panel.withTarget(query.refId(String.fromCharCode(65 + i))));
  if (spec.links?.length) panel.dataLinks(spec.links);
  if (spec.transformations?.length) panel.transformations(spec.transformations);
  return panel;
}

export interface TimeseriesSpec extends PanelSpec {
  stack?: boolean;
  bars?: boolean;
  min?: number;
  max?: number;
}

export function timeseries(spec: TimeseriesSpec): timeseriesPanel.PanelBuilder {
  const panel = setUp(new timeseriesPanel.PanelBuilder(), spec)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.List)
        .placement(common.LegendPlacement.Bottom)
        .calcs([]),
    )
    .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending))
    .lineWidth(1)
    .fillOpacity(spec.stack || spec.bars ? 60 : 10)
    .showPoints(common.VisibilityMode.Never);
  if (spec.bars) panel.drawStyle(common.GraphDrawStyle.Bars);
  if (spec.stack) panel.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  return panel;
}

export interface StatSpec extends PanelSpec {
  mappings?: ValueMapping[];
  /** Colour steps: the first applies from -∞, each next one from its value. */
  steps?: [color: string, from?: number][];
}

export function stat(spec: StatSpec): statPanel.PanelBuilder {
  const steps = (spec.steps ?? [['green']]).map(([color, value]) => ({ color, value: value ?? null }));
  const panel = setUp(new statPanel.PanelBuilder(), { w: 4, h: 4, ...spec })
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .graphMode(common.BigValueGraphMode.Area)
    .colorMode(common.BigValueColorMode.Value)
    .thresholds(new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps(steps));
  if (spec.mappings) panel.mappings(spec.mappings);
  return panel;
}

/** 1 → UP (green), 0 → DOWN (red), for `up` and other liveness series. */
export const upMappings: ValueMapping[] = [
  {
    type: MappingType.ValueToText,
    options: { '0': { text: 'DOWN', color: 'red', index: 0 }, '1': { text: 'UP', color: 'green', index: 1 } },
  },
];

export function table(spec: PanelSpec): tablePanel.PanelBuilder {
  return setUp(new tablePanel.PanelBuilder(), spec).showHeader(true).cellHeight(common.TableCellHeight.Sm);
}

export function logs(spec: PanelSpec): logsPanel.PanelBuilder {
  return setUp(new logsPanel.PanelBuilder(), { w: 24, h: 10, ...spec })
    .showTime(true)
    .showLabels(false)
    .showCommonLabels(false)
    .wrapLogMessage(true)
    .prettifyLogMessage(false)
    .enableLogDetails(true)
    .showLogContextToggle(true)
    .sortOrder(common.LogsSortOrder.Descending)
    .dedupStrategy(common.LogsDedupStrategy.None);
}

export function nodeGraph(spec: PanelSpec): nodegraph.PanelBuilder {
  return setUp(new nodegraph.PanelBuilder(), { w: 24, h: 14, ...spec });
}

export function pie(spec: PanelSpec): piechart.PanelBuilder {
  return setUp(new piechart.PanelBuilder(), spec)
    .pieType(piechart.PieChartType.Donut)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .legend(
      new piechart.PieChartLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .values([piechart.PieChartLegendValues.Value, piechart.PieChartLegendValues.Percent])
        .calcs([]),
    );
}

export function row(title: string): RowBuilder {
  return new RowBuilder(title);
}

/** Merges instant table queries on their common labels and names the value columns. */
export function mergeColumns(names: Record<string, string>): DataTransformerConfig[] {
  const renameByName = Object.fromEntries(Object.entries(names).map(([refId, name]) => [`Value #${refId}`, name]));
  return [
    { id: 'merge', options: {} },
    { id: 'organize', options: { excludeByName: { Time: true }, renameByName } },
  ];
}

// ---------------------------------------------------------------------------------------------
// Variables

export type Variable = QueryVariableBuilder | CustomVariableBuilder;

interface VariableOptions {
  /** Regex the "All" option stands for. `.*` also matches series without the label. */
  allValue?: string;
}

function multiValue<V extends Variable>(variable: V, label: string, options: VariableOptions): V {
  variable.label(label).multi(true).includeAll(true);
  variable.allValue(options.allValue ?? '.*').current({ text: 'All', value: '$__all' });
  return variable;
}

/** A multi-value variable over `label_values(selector, label)` from Mimir. */
export function promVariable(name: string, label: string, query: string, options: VariableOptions = {}): QueryVariableBuilder {
  return multiValue(new QueryVariableBuilder(name), label, options)
    .datasource(datasources.mimir)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/** A multi-value variable over the values of a Loki label. Loki needs `.+` for "All" in stream selectors. */
export function lokiVariable(name: string, label: string, lokiLabel: string): QueryVariableBuilder {
  const query = `label_values(${lokiLabel})`;
  return multiValue(new QueryVariableBuilder(name), label, { allValue: '.+' })
    .datasource(datasources.loki)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

export function customVariable(name: string, label: string, values: string[], options: VariableOptions = {}): CustomVariableBuilder {
  return multiValue(new CustomVariableBuilder(name), label, options).values(values.join(','));
}

// ---------------------------------------------------------------------------------------------
// Dashboard

export type Item = RowBuilder | PanelBuilderLike;

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags?: string[];
  variables?: Variable[];
  items: Item[];
}

export function dashboard(spec: DashboardSpec): Dashboard {
  const builder = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .description(spec.description)
    .tags([TAG, ...(spec.tags ?? [])])
    // The provisioning provider has allowUiUpdates: false, so an edit could never be saved: read-only.
    .readonly()
    .timezone('browser')
    .time({ from: 'now-1h', to: 'now' })
    .refresh('30s')
    .tooltip(DashboardCursorSync.Crosshair)
    .link(
      link(
        new DashboardLinkBuilder('mop-sandbox dashboards')
          .type(DashboardLinkType.Dashboards)
          .tags([TAG])
          .asDropdown(true)
          .keepTime(true)
          .includeVars(false)
          .targetBlank(false),
      ),
    );
  for (const variable of spec.variables ?? []) builder.withVariable(variable);
  for (const item of spec.items) {
    if (item instanceof RowBuilder) builder.withRow(item);
    else builder.withPanel(item);
  }
  const built = builder.build();
  // Stable panel ids, so /d/<uid>?viewPanel=<id> links keep working.
  built.panels?.forEach((panel, i) => (panel.id = i + 1));
  return built;
}
