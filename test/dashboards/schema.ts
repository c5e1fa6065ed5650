/**
 * JSON Schema for dashboard JSON, generated from the @grafana/grafana-foundation-sdk types the dashboards
 * are built with (shared/design/TOOLING.md §3), and Ajv validators over it.
 *
 * The schema is generated when the tests start (about 2 s) instead of being committed: it then always
 * matches the installed SDK, and there is no second generated artifact that can go stale.
 */
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { createGenerator, type Config } from 'ts-json-schema-generator';

const typesFile = fileURLToPath(new URL('./schema-types.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('./tsconfig.json', import.meta.url));

type Schema = { definitions: Record<string, unknown> } & Record<string, unknown>;

export function generateDashboardSchema(): Schema {
  const config: Config = { path: typesFile, tsconfig, type: '*', skipTypeCheck: true, expose: 'export', topRef: true, functions: 'hide' };
  const schema = createGenerator(config).createSchema('*') as Schema;
  // Panel.targets is typed with the SDK's opaque marker interface (no properties). Accept any object
  // there; each target is validated against its datasource's query type instead (validators.query).
  schema.definitions.Dataquery = { type: 'object' };
  return schema;
}

/** Panel type → the option types its `options` and `fieldConfig.defaults.custom` must match. */
const panelTypes: Record<string, { options: string; custom?: string }> = {
  timeseries: { options: 'TimeseriesOptions', custom: 'TimeseriesFieldConfig' },
  stat: { options: 'StatOptions' },
  table: { options: 'TableOptions', custom: 'TableFieldConfig' },
  logs: { options: 'LogsOptions' },
  nodeGraph: { options: 'NodeGraphOptions' },
  piechart: { options: 'PieChartOptions', custom: 'PieChartFieldConfig' },
};

/** Datasource type → the query type of its targets. */
const queryTypes: Record<string, string> = { prometheus: 'PrometheusQuery', loki: 'LokiQuery', tempo: 'TempoQuery' };

export interface Validators {
  dashboard: ValidateFunction;
  panelTypes: string[];
  options(panelType: string): ValidateFunction | undefined;
  custom(panelType: string): ValidateFunction | undefined;
  query(datasourceType: string): ValidateFunction | undefined;
}

export function createValidators(schema: Schema): Validators {
  const ajv = new Ajv({ allErrors: true, strict: false });
  ajv.addSchema(schema, 'sdk');
  const get = (definition: string) => {
    const validate = ajv.getSchema(`sdk#/definitions/${definition}`);
    if (!validate) throw new Error(`the generated schema has no definition ${definition}`);
    return validate;
  };
  const dashboard = get('GrafanaDashboard');
  return {
    dashboard,
    panelTypes: Object.keys(panelTypes),
    options: (type) => (panelTypes[type] ? get(panelTypes[type].options) : undefined),
    custom: (type) => (panelTypes[type]?.custom ? get(panelTypes[type].custom!) : undefined),
    query: (type) => (queryTypes[type] ? get(queryTypes[type]) : undefined),
  };
}

export function describeErrors(where: string, errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${where}${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
}
