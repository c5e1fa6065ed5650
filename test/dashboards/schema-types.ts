/**
 * The types the dashboard JSON schema is generated from (test/dashboards/schema.ts).
 * Every alias is a type from @grafana/grafana-foundation-sdk, the same package the dashboards are built with,
 * so the schema and the builders cannot drift apart. Panel options are Partial: Grafana fills in the
 * missing options itself, but a misspelt or mistyped option is still an error.
 */
import type { Dashboard as SdkDashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as stat from '@grafana/grafana-foundation-sdk/stat';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as logs from '@grafana/grafana-foundation-sdk/logs';
import type * as nodegraph from '@grafana/grafana-foundation-sdk/nodegraph';
import type * as piechart from '@grafana/grafana-foundation-sdk/piechart';
import type * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import type * as loki from '@grafana/grafana-foundation-sdk/loki';
import type * as tempo from '@grafana/grafana-foundation-sdk/tempo';

export type GrafanaDashboard = SdkDashboard;

export type TimeseriesOptions = Partial<timeseries.Options>;
export type TimeseriesFieldConfig = Partial<timeseries.FieldConfig>;
export type StatOptions = Partial<stat.Options>;
export type TableOptions = Partial<table.Options>;
export type TableFieldConfig = Partial<table.FieldConfig>;
export type LogsOptions = Partial<logs.Options>;
export type NodeGraphOptions = Partial<nodegraph.Options>;
export type PieChartOptions = Partial<piechart.Options>;
export type PieChartFieldConfig = Partial<piechart.FieldConfig>;

export interface PrometheusQuery extends prometheus.Dataquery {}
export interface LokiQuery extends loki.dataquery {}
export interface TempoQuery extends tempo.Dataquery {}
