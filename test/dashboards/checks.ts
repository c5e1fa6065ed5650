/**
 * Checks over one dashboard's JSON. Each returns a list of problems (empty = fine), so the tests can
 * both assert that the committed dashboards pass and that a deliberately broken copy does not.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { promqlSelectors, syntaxErrors, type QueryLanguage } from '../support/query-grammar.js';
import { describeErrors, type Validators } from './schema.js';

/** Dashboard JSON is walked as plain data. */
type Json = any;

export interface DatasourceRef {
  type?: string;
  uid?: string;
}

export interface FoundQuery {
  /** Human-readable location, e.g. `panel "Request rate" target B`. */
  where: string;
  language: QueryLanguage;
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Walking a dashboard

/** Every panel, including those nested in collapsed rows. */
export function panelsOf(dashboard: Json): Json[] {
  return (dashboard.panels ?? []).flatMap((p: Json) => [p, ...(p.panels ?? [])]);
}

const languageOf: Record<string, QueryLanguage> = { prometheus: 'promql', loki: 'logql' };

/** The query text of a target, with its language; undefined when the target has none (service map). */
function targetQuery(datasourceType: string | undefined, target: Json): { language: QueryLanguage; text: string } | undefined {
  if (datasourceType === 'tempo') {
    return target.queryType === 'traceql' ? { language: 'traceql', text: target.query ?? '' } : undefined;
  }
  const language = languageOf[datasourceType ?? ''];
  return language ? { language, text: target.expr ?? '' } : undefined;
}

/** The panes of a Grafana Explore link (`/explore?…&panes={…}`), or [] for other URLs. */
export function explorePanes(url: string): { datasource: string; queries: Json[] }[] {
  if (!url.startsWith('/explore?')) return [];
  const panes = new URL(url, 'http://grafana').searchParams.get('panes');
  return panes ? Object.values(JSON.parse(panes)) : [];
}

export function linksOf(dashboard: Json): { where: string; link: Json }[] {
  const found = (dashboard.links ?? []).map((link: Json) => ({ where: `dashboard link "${link.title}"`, link }));
  for (const panel of panelsOf(dashboard)) {
    const links = [...(panel.links ?? []), ...(panel.fieldConfig?.defaults?.links ?? [])];
    found.push(...links.map((link: Json) => ({ where: `panel "${panel.title}" link "${link.title}"`, link })));
  }
  return found;
}

/**
 * `label_values(selector, label)` → the selector; `label_values(label)` → nothing to parse;
 * `query_result(q)` → q. Anything else is reported, so no variable query goes unchecked.
 */
function variableQuery(query: string): { text?: string; problem?: string } {
  const labelValues = /^label_values\((?:(.*),)?\s*[\w.]+\s*\)$/s.exec(query.trim());
  if (labelValues) return { text: labelValues[1]?.trim() };
  const queryResult = /^query_result\((.*)\)$/s.exec(query.trim());
  if (queryResult) return { text: queryResult[1] };
  return { problem: `unsupported variable query "${query}"` };
}

/** Every query a dashboard runs: panel targets, variable queries and queries inside Explore links. */
export function queriesOf(dashboard: Json, provisioned: DatasourceRef[]): { queries: FoundQuery[]; problems: string[] } {
  const queries: FoundQuery[] = [];
  const problems: string[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      const type = (target.datasource ?? panel.datasource)?.type;
      const query = targetQuery(type, target);
      if (query) queries.push({ where: `panel "${panel.title}" target ${target.refId}`, ...query });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const language = languageOf[variable.datasource?.type];
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    if (!language || typeof query !== 'string') {
      problems.push(`variable "${variable.name}": no PromQL/LogQL query to check`);
      continue;
    }
    const { text, problem } = variableQuery(query);
    if (problem) problems.push(`variable "${variable.name}": ${problem}`);
    if (text) queries.push({ where: `variable "${variable.name}"`, language, text });
  }
  for (const { where, link } of linksOf(dashboard)) {
    for (const pane of explorePanes(link.url ?? '')) {
      const type = provisioned.find((d) => d.uid === pane.datasource)?.type;
      for (const target of pane.queries) {
        const query = targetQuery(type, target);
        if (query) queries.push({ where: `${where} (Explore ${pane.datasource})`, ...query });
      }
    }
  }
  return { queries, problems };
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Every query parses with the grammar Grafana uses for its language (after macro substitution). */
export function checkQuerySyntax(dashboard: Json, provisioned: DatasourceRef[]): string[] {
  const { queries, problems } = queriesOf(dashboard, provisioned);
  for (const q of queries) {
    const errors = syntaxErrors(q.language, q.text);
    if (errors.length) problems.push(`${q.where}: ${q.language} does not parse near "${errors[0].near}": ${q.text}`);
  }
  return problems;
}

/** Every datasource the dashboard names (panels, targets, variables, Explore links) is provisioned, with the right type. */
export function checkDatasources(dashboard: Json, provisioned: DatasourceRef[]): string[] {
  const refs: { where: string; ref: DatasourceRef }[] = [];
  for (const panel of panelsOf(dashboard)) {
    if (panel.datasource) refs.push({ where: `panel "${panel.title}"`, ref: panel.datasource });
    for (const target of panel.targets ?? []) {
      refs.push({ where: `panel "${panel.title}" target ${target.refId}`, ref: target.datasource ?? panel.datasource ?? {} });
    }
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'query') refs.push({ where: `variable "${variable.name}"`, ref: variable.datasource ?? {} });
  }
  for (const { where, link } of linksOf(dashboard)) {
    for (const pane of explorePanes(link.url ?? '')) {
      refs.push({ where: `${where} (Explore pane)`, ref: { uid: pane.datasource } });
      for (const target of pane.queries) if (target.datasource) refs.push({ where: `${where} (Explore query)`, ref: target.datasource });
    }
  }
  return refs.flatMap(({ where, ref }) => {
    const match = provisioned.find((d) => d.uid === ref.uid);
    if (!match) return [`${where}: datasource uid "${ref.uid}" is not provisioned (${provisioned.map((d) => d.uid).join(', ')})`];
    if (ref.type && ref.type !== match.type) return [`${where}: datasource "${ref.uid}" has type ${match.type}, not ${ref.type}`];
    return [];
  });
}

export interface CatalogEntry {
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels?: string[];
  /** The exemplar label the source attaches to this histogram's buckets (traceID, trace_id); absent = no exemplars. */
  exemplars?: string;
}

/** Labels a query may match on for any metric: target labels, and OTel resource attributes Mimir promotes. */
export const commonLabels = ['job', 'instance', 'service_name', 'deployment_environment'];

/** name → entry, over every section of scripts/stack/metrics-catalog.json. */
export function flattenCatalog(catalog: Json): Map<string, CatalogEntry> {
  const metrics = new Map<string, CatalogEntry>();
  for (const [section, value] of Object.entries<Json>(catalog)) {
    if (section.startsWith('_')) continue;
    for (const [name, entry] of Object.entries<Json>(value.metrics ?? {})) metrics.set(name, entry);
  }
  return metrics;
}

/** The catalog entry a series name belongs to: itself, or the histogram/summary it is a `_bucket/_count/_sum` of. */
export function resolveMetric(catalog: Map<string, CatalogEntry>, name: string): { entry: CatalogEntry; part?: string } | undefined {
  const entry = catalog.get(name);
  if (entry) return { entry };
  const match = /^(.*)_(bucket|count|sum)$/.exec(name);
  const base = match && catalog.get(match[1]);
  if (base && (base.type === 'histogram' || (base.type === 'summary' && match![2] !== 'bucket'))) return { entry: base, part: match![2] };
  return undefined;
}

const rangeCounterFunctions = new Set(['rate', 'irate', 'increase']);

/**
 * Every metric a PromQL query reads is in the catalog; label matchers use labels the catalog lists for it;
 * rate()/increase() are only applied to counters and histogram series.
 */
export function checkMetrics(dashboard: Json, provisioned: DatasourceRef[], catalog: Map<string, CatalogEntry>): string[] {
  const problems: string[] = [];
  for (const q of queriesOf(dashboard, provisioned).queries) {
    if (q.language !== 'promql') continue;
    for (const selector of promqlSelectors(q.text)) {
      if (!selector.metric) {
        problems.push(`${q.where}: selector ${selector.text} names no metric`);
        continue;
      }
      const resolved = resolveMetric(catalog, selector.metric);
      if (!resolved) {
        problems.push(`${q.where}: metric ${selector.metric} is not in scripts/stack/metrics-catalog.json`);
        continue;
      }
      const { entry, part } = resolved;
      if (entry.labels) {
        const allowed = new Set([...entry.labels, ...commonLabels, ...(part === 'bucket' ? ['le'] : [])]);
        for (const label of selector.labels.filter((l) => !allowed.has(l))) {
          problems.push(`${q.where}: ${selector.metric} has no label ${label} (catalog: ${entry.labels.join(', ') || 'none'})`);
        }
      }
      if (selector.rangeFunction && rangeCounterFunctions.has(selector.rangeFunction) && entry.type === 'gauge') {
        problems.push(`${q.where}: ${selector.rangeFunction}() over the gauge ${selector.metric}`);
      }
    }
  }
  return problems;
}

/**
 * A target that asks for exemplars reads only series that carry them (the catalog's `exemplars`), so no
 * panel promises exemplar dots that can never appear, and the exemplar label is one Grafana links to Tempo.
 */
export function checkExemplars(dashboard: Json, catalog: Map<string, CatalogEntry>, linkedLabels: string[]): string[] {
  const problems: string[] = [];
  for (const panel of panelsOf(dashboard)) {
    for (const target of panel.targets ?? []) {
      if (target.exemplar !== true || typeof target.expr !== 'string') continue;
      const where = `panel "${panel.title}" target ${target.refId}`;
      for (const selector of promqlSelectors(target.expr)) {
        const entry = selector.metric ? resolveMetric(catalog, selector.metric)?.entry : undefined;
        if (!entry?.exemplars) problems.push(`${where}: asks for exemplars, but ${selector.metric ?? selector.text} carries none`);
        else if (!linkedLabels.includes(entry.exemplars)) {
          problems.push(`${where}: ${selector.metric}'s exemplar label ${entry.exemplars} is not linked to Tempo (${linkedLabels.join(', ')})`);
        }
      }
    }
  }
  return problems;
}

/** The exemplar labels config/grafana's Mimir datasource links to a trace (jsonData.exemplarTraceIdDestinations). */
export function exemplarLinkLabels(grafanaConfigDir: string): string[] {
  const file = join(grafanaConfigDir, 'provisioning/datasources/datasources.yaml');
  const doc = parseYaml(readFileSync(file, 'utf8'));
  const mimir = (doc.datasources ?? []).find((d: Json) => d.uid === 'mimir');
  return (mimir?.jsonData?.exemplarTraceIdDestinations ?? []).filter((d: Json) => d.datasourceUid === 'tempo').map((d: Json) => d.name);
}

/** The dashboard JSON, each panel's options and field config, and each target match the SDK's types. */
export function checkSchema(dashboard: Json, validators: Validators): string[] {
  const problems: string[] = [];
  if (!validators.dashboard(dashboard)) problems.push(...describeErrors('dashboard', validators.dashboard.errors));
  for (const panel of panelsOf(dashboard)) {
    if (panel.type === 'row') continue;
    const where = `panel "${panel.title}"`;
    const options = validators.options(panel.type);
    if (!options) {
      problems.push(`${where}: panel type ${panel.type} has no options schema (known: ${validators.panelTypes.join(', ')})`);
    } else if (!options(panel.options ?? {})) {
      problems.push(...describeErrors(`${where} options`, options.errors));
    }
    const custom = validators.custom(panel.type);
    if (custom && !custom(panel.fieldConfig?.defaults?.custom ?? {})) {
      problems.push(...describeErrors(`${where} fieldConfig.defaults.custom`, custom.errors));
    }
    for (const target of panel.targets ?? []) {
      const type = (target.datasource ?? panel.datasource)?.type;
      const query = validators.query(type);
      if (!query) problems.push(`${where} target ${target.refId}: no query schema for datasource type ${type}`);
      else if (!query(target)) problems.push(...describeErrors(`${where} target ${target.refId}`, query.errors));
    }
  }
  return problems;
}

/** Each named panel exists (by title, not a row) and runs at least one query. */
export function checkPanelsExist(dashboard: Json, titles: string[]): string[] {
  const panels = panelsOf(dashboard).filter((p) => p.type !== 'row');
  return titles.flatMap((title) => {
    const panel = panels.find((p) => p.title === title);
    if (!panel) return [`no panel titled "${title}" (panels: ${panels.map((p) => p.title).join(', ')})`];
    if (!panel.targets?.length) return [`panel "${title}" has no query`];
    return [];
  });
}

/** Panels have unique ids and fit the 24-column grid. */
export function checkLayout(dashboard: Json): string[] {
  const problems: string[] = [];
  const ids = panelsOf(dashboard).map((p) => p.id);
  if (new Set(ids).size !== ids.length || ids.some((id) => typeof id !== 'number')) problems.push(`panel ids are not unique numbers: ${ids.join(', ')}`);
  for (const panel of panelsOf(dashboard)) {
    const g = panel.gridPos;
    if (!g || g.x < 0 || g.w < 1 || g.x + g.w > 24 || g.h < 1) problems.push(`panel "${panel.title}" is off the grid: ${JSON.stringify(g)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Provisioned datasources

/** The datasource uids every dashboard may use: the fixed contract with the Grafana provisioning. */
export const contractDatasources: DatasourceRef[] = [
  { uid: 'mimir', type: 'prometheus' },
  { uid: 'tempo', type: 'tempo' },
  { uid: 'loki', type: 'loki' },
];

/** Datasources declared in Grafana provisioning files (`datasources:` in any YAML under `dir`), [] if none exist yet. */
export function provisionedDatasources(dir: string): DatasourceRef[] {
  const files: string[] = [];
  const walk = (d: string) => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const name of entries) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.ya?ml$/.test(name)) files.push(path);
    }
  };
  walk(dir);
  return files.flatMap((file) => {
    const doc = parseYaml(readFileSync(file, 'utf8')) as Json;
    return Array.isArray(doc?.datasources) ? doc.datasources.map((d: Json) => ({ uid: d.uid, type: d.type })) : [];
  });
}
