/**
 * The correlation links the README promises ("wired both ways"), followed from source to target over the
 * configs as the backends read them. Each check returns problems (empty = the link holds), each naming the
 * link it breaks, so test/configs/correlation.test.ts can assert both that the committed configs hold and
 * that a broken copy is caught. The upstream behaviour they rely on is in test/support/upstream-facts.ts and
 * test/support/grafana-links.ts.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { promqlSelectors, syntaxErrors } from '../support/query-grammar.js';
import { traceToLogsQuery, traceToMetricsQueries, type SpanFixture } from '../support/grafana-links.js';
import {
  grafanaServiceMapQueries,
  lokiAllowStructuredMetadataDefault,
  lokiDefaultIndexedResourceAttributes,
  lokiLabelName,
  lokiLogRecordMetadata,
  otlpExemplarLabels,
  tempoClassicHistogramModes,
  tempoExemplarLabelDefault,
  tempoGeneratorProcessors,
} from '../support/upstream-facts.js';

/** Config documents are walked as plain data. */
type Json = any;

export interface CorrelationInputs {
  /** grafana/provisioning/datasources/datasources.yaml after Grafana's env expansion ($$ → $). */
  grafana: Json;
  /** loki/loki.yaml and tempo/tempo.yaml after -config.expand-env. */
  loki: Json;
  tempo: Json;
  /** scripts/stack/metrics-catalog.json */
  catalog: Json;
  /** A span of the demo app and the log records written while it was active. */
  span: SpanFixture;
  /** The demo's stdout line for a log written in the span (what container log collection ships). */
  stdoutLine: string;
}

const datasource = (inp: CorrelationInputs, uid: string | undefined) => inp.grafana.datasources.find((d: Json) => d.uid === uid);
const byType = (inp: CorrelationInputs, type: string) => inp.grafana.datasources.find((d: Json) => d.type === type);

function pointsTo(inp: CorrelationInputs, link: string, uid: string | undefined, type: string): string[] {
  const ds = datasource(inp, uid);
  if (!ds) return [`${link}: datasourceUid ${uid ?? '(none)'} is not a provisioned datasource`];
  return ds.type === type ? [] : [`${link}: datasourceUid ${uid} is a ${ds.type} datasource, not ${type}`];
}

// ------------------------------------------------------------------------------------------------
// Loki: what an OTLP log record becomes

export interface LokiEntry {
  /** Index labels (name → value). */
  labels: Map<string, string>;
  /** Structured metadata field names. */
  metadata: Set<string>;
  /** Why Loki refuses the record, when it does. */
  rejected?: string;
}

/** Loki's action for a resource attribute (otlp_config.go actionForAttribute: first match wins, else structured metadata). */
function resourceAttributeAction(loki: Json, attribute: string): string {
  const defaults: string[] = loki?.distributor?.otlp_config?.default_resource_attributes_as_index_labels ?? lokiDefaultIndexedResourceAttributes;
  const ra = loki?.limits_config?.otlp_config?.resource_attributes ?? {};
  const configs: { action?: string; attributes?: string[]; regex?: string }[] = [
    ...(ra.ignore_defaults ? [] : [{ action: 'index_label', attributes: defaults }]),
    ...(ra.attributes_config ?? []),
  ];
  for (const c of configs) {
    if (c.regex !== undefined && new RegExp(`^(?:${c.regex})$`).test(attribute)) return c.action ?? 'structured_metadata';
    if (c.attributes?.includes(attribute)) return c.action ?? 'structured_metadata';
  }
  return 'structured_metadata';
}

/** What Loki (loki.yaml) stores for an OTLP log record of `span`'s resource with the span's trace and span id. */
export function lokiEntryFor(loki: Json, span: SpanFixture): LokiEntry {
  const labels = new Map<string, string>();
  const metadata = new Set<string>([lokiLogRecordMetadata.traceId, lokiLogRecordMetadata.spanId]);
  for (const [k, v] of Object.entries(span.resource)) {
    const action = resourceAttributeAction(loki, k);
    if (action === 'index_label') labels.set(lokiLabelName(k), v);
    else if (action === 'structured_metadata') metadata.add(lokiLabelName(k));
  }
  const allow = loki?.limits_config?.allow_structured_metadata ?? lokiAllowStructuredMetadataDefault;
  const rejected = allow === true ? undefined : 'limits_config.allow_structured_metadata is not true, so Loki refuses OTLP log records (they all carry structured metadata)';
  return { labels, metadata, rejected };
}

// ------------------------------------------------------------------------------------------------
// Tempo: what the metrics-generator writes

export interface GeneratedSeries {
  /** Series name → label names (external labels and `le` for buckets included). */
  series: Map<string, Set<string>>;
  exemplarLabel: string;
  problems: string[];
}

export function tempoGeneratedSeries(tempo: Json): GeneratedSeries {
  const problems: string[] = [];
  const series = new Map<string, Set<string>>();
  const gen = tempo?.overrides?.defaults?.metrics_generator ?? {};
  if (!tempo?.metrics_generator?.storage?.path) problems.push('tempo.yaml: metrics_generator.storage.path is not set, so the metrics-generator is off');
  if (!(tempo?.metrics_generator?.storage?.remote_write ?? []).length) problems.push('tempo.yaml: metrics_generator.storage.remote_write is empty, so generated series go nowhere');
  const external = Object.keys(tempo?.metrics_generator?.registry?.external_labels ?? {});
  const classic = tempoClassicHistogramModes.has(gen.generate_native_histograms);
  for (const processor of gen.processors ?? []) {
    const facts = tempoGeneratorProcessors[processor];
    if (!facts) continue;
    const extra: string[] =
      processor === 'span-metrics' ? (gen.processor?.span_metrics?.dimensions ?? []).map(lokiLabelName) : (gen.processor?.service_graphs?.dimensions ?? []).map(lokiLabelName);
    const labels = [...facts.labels, ...extra, ...external];
    for (const [name, type] of Object.entries(facts.metrics)) {
      if (type === 'histogram') {
        series.set(`${name}_sum`, new Set(labels));
        series.set(`${name}_count`, new Set(labels));
        if (classic) series.set(`${name}_bucket`, new Set([...labels, 'le']));
      } else series.set(name, new Set(labels));
    }
  }
  return { series, exemplarLabel: gen.trace_id_label_name ?? tempoExemplarLabelDefault, problems };
}

/** Problems with one PromQL query whose series must come from Tempo's metrics-generator and be in the catalog. */
function checkGeneratedQuery(link: string, query: string, generated: GeneratedSeries, catalog: Json): string[] {
  const problems: string[] = [];
  const unfilled = query.replace(/\$__(rate_interval|interval|range|auto)\b/g, '').match(/\$\{?[\w.]+\}?/g);
  if (unfilled) problems.push(`${link}: ${unfilled.join(', ')} is left in the query after Grafana's expansion`);
  const errors = syntaxErrors('promql', query);
  if (errors.length) return [...problems, `${link}: PromQL does not parse near "${errors[0].near}": ${query}`];
  const section = catalog?.tempo_generator?.metrics ?? {};
  for (const s of promqlSelectors(query)) {
    if (!s.metric) {
      problems.push(`${link}: selector ${s.text} names no metric`);
      continue;
    }
    const labels = generated.series.get(s.metric);
    if (!labels) {
      problems.push(`${link}: ${s.metric} is not a series Tempo's metrics-generator writes with the processors tempo.yaml enables`);
      continue;
    }
    for (const l of s.labels) if (!labels.has(l)) problems.push(`${link}: ${s.metric} has no label ${l} (Tempo writes ${[...labels].join(', ')})`);
    const base = s.metric.replace(/_(bucket|sum|count)$/, '');
    const entry = section[s.metric] ?? section[base];
    if (!entry) problems.push(`${link}: ${s.metric} is not in metrics-catalog.json's tempo_generator section`);
    else for (const l of s.labels) if (!entry.labels.includes(l) && l !== 'le') problems.push(`${link}: the catalog lists no label ${l} for ${s.metric}`);
  }
  return problems;
}

// ------------------------------------------------------------------------------------------------
// The links

/** Label names and `=` values of a LogQL stream selector; label names the pipeline filters on; whether it parses fields. */
function logqlParts(query: string) {
  const selector = new Map<string, { op: string; value: string }>();
  const filters: { name: string; op: string; value: string }[] = [];
  let parses = false;
  const text = (n: SyntaxNode) => query.slice(n.from, n.to);
  logqlParser.parse(query).iterate({
    enter: (ref) => {
      if (['LogfmtParser', 'JsonExpressionParser', 'LabelParser', 'LabelExtractionExpressionList', 'Json', 'Logfmt', 'Regexp', 'Pattern', 'Unpack'].includes(ref.name)) parses = true;
      if (ref.name !== 'Matcher') return;
      const m = ref.node;
      const name = m.getChild('Identifier');
      const value = m.getChild('String');
      const op = m.firstChild?.nextSibling;
      if (!name || !value || !op) return;
      const entry = { name: text(name), op: text(op), value: JSON.parse(text(value).replace(/^`|`$/g, '"')) as string };
      let p = m.parent;
      while (p && p.name !== 'Selector' && p.name !== 'LabelFilter') p = p.parent;
      if (p?.name === 'Selector') selector.set(entry.name, entry);
      else if (p?.name === 'LabelFilter') filters.push(entry);
    },
  });
  return { selector, filters, parses };
}

/** Trace → logs: Tempo's tracesToLogsV2 as Grafana expands it, against what Loki stores for the demo's logs. */
export function checkTraceToLogs(inp: CorrelationInputs): string[] {
  const link = 'trace → logs (Tempo tracesToLogsV2)';
  const tempo = byType(inp, 'tempo');
  const opts = tempo?.jsonData?.tracesToLogsV2;
  if (!opts) return [`${link}: the Tempo datasource has no tracesToLogsV2, so spans link to no logs`];
  const problems = pointsTo(inp, link, opts.datasourceUid, 'loki');
  const { query, hidden } = traceToLogsQuery(opts, inp.span);
  if (!query) return [...problems, `${link}: ${hidden}`];
  const errors = syntaxErrors('logql', query);
  if (errors.length) return [...problems, `${link}: LogQL does not parse near "${errors[0].near}": ${query}`];
  const entry = lokiEntryFor(inp.loki, inp.span);
  if (entry.rejected) problems.push(`${link}: ${entry.rejected}`);
  const { selector, filters, parses } = logqlParts(query);
  if (selector.size === 0) problems.push(`${link}: the query selects no stream: ${query}`);
  for (const [name, m] of selector) {
    const stored = entry.labels.get(name);
    if (stored === undefined) {
      problems.push(`${link}: stream label ${name} is not an index label Loki makes from the logs' OTLP resource (it indexes ${[...entry.labels.keys()].join(', ')})`);
    } else if (m.op === '=' && stored !== m.value) {
      problems.push(`${link}: ${name}="${m.value}" does not match the logs' ${name}="${stored}"`);
    }
  }
  const fields = new Set([...entry.labels.keys(), ...entry.metadata]);
  if (!parses) {
    for (const f of filters) {
      if (!fields.has(f.name) && !/^log_line_contains_/.test(f.name)) problems.push(`${link}: the query filters on ${f.name}, which the logs in Loki do not carry`);
    }
  }
  const byTraceId = filters.some((f) => f.name === lokiLogRecordMetadata.traceId && f.op === '=' && f.value === inp.span.traceId && entry.metadata.has(f.name));
  if (!byTraceId) problems.push(`${link}: no filter ${lokiLogRecordMetadata.traceId}="<trace id>" on the structured metadata where Loki keeps an OTLP record's trace id: ${query}`);
  return problems;
}

/** Trace → metrics: each query parses as PromQL and reads series Tempo's metrics-generator writes to the linked datasource. */
export function checkTraceToMetrics(inp: CorrelationInputs): string[] {
  const link = 'trace → metrics (Tempo tracesToMetrics)';
  const opts = byType(inp, 'tempo')?.jsonData?.tracesToMetrics;
  if (!opts) return [`${link}: the Tempo datasource has no tracesToMetrics`];
  const problems = pointsTo(inp, link, opts.datasourceUid, 'prometheus');
  const generated = tempoGeneratedSeries(inp.tempo);
  problems.push(...generated.problems.map((p) => `${link}: ${p}`));
  const queries = traceToMetricsQueries(opts, inp.span);
  if (!queries.length) problems.push(`${link}: no queries`);
  for (const q of queries) problems.push(...checkGeneratedQuery(`${link} "${q.name}"`, q.query, generated, inp.catalog));
  return problems;
}

/** Service map: Grafana reads the service-graph and span-metrics series from serviceMap.datasourceUid. */
export function checkServiceMap(inp: CorrelationInputs): string[] {
  const link = 'service map (Tempo serviceMap)';
  const opts = byType(inp, 'tempo')?.jsonData?.serviceMap;
  if (!opts) return [`${link}: the Tempo datasource has no serviceMap`];
  const problems = pointsTo(inp, link, opts.datasourceUid, 'prometheus');
  const generated = tempoGeneratedSeries(inp.tempo);
  problems.push(...generated.problems.map((p) => `${link}: ${p}`));
  for (const q of grafanaServiceMapQueries) problems.push(...checkGeneratedQuery(link, q, generated, inp.catalog));
  const target = datasource(inp, opts.datasourceUid);
  const writes: string[] = (inp.tempo?.metrics_generator?.storage?.remote_write ?? []).map((w: Json) => new URL(w.url).host);
  if (target && !writes.includes(new URL(target.url).host)) problems.push(`${link}: Tempo remote-writes to ${writes.join(', ') || 'nowhere'}, not to ${target.url} where the service map reads`);
  return problems;
}

/** Logs → trace: every derived field finds the trace id in logs Loki really holds, and both kinds of log are covered. */
export function checkLogsToTrace(inp: CorrelationInputs): string[] {
  const link = 'logs → trace (Loki derivedFields)';
  const fields: Json[] = byType(inp, 'loki')?.jsonData?.derivedFields ?? [];
  if (!fields.length) return [`${link}: the Loki datasource has no derivedFields`];
  const problems: string[] = [];
  const entry = lokiEntryFor(inp.loki, inp.span);
  const otlpFields = new Map<string, string>([...entry.labels, [lokiLogRecordMetadata.traceId, inp.span.traceId], [lokiLogRecordMetadata.spanId, inp.span.spanId]]);
  let otlpCovered = false;
  let stdoutCovered = false;
  for (const f of fields) {
    const where = `${link} "${f.name}"`;
    problems.push(...pointsTo(inp, where, f.datasourceUid, 'tempo'));
    if (f.url !== '${__value.raw}') problems.push(`${where}: url is ${JSON.stringify(f.url)}, not \${__value.raw} (the trace id as the Tempo query)`);
    if (f.matcherType === 'label') {
      const value = otlpFields.get(f.matcherRegex);
      if (value === undefined) problems.push(`${where}: OTLP logs in Loki carry no field ${f.matcherRegex} (they carry ${[...otlpFields.keys()].join(', ')})`);
      else if (value !== inp.span.traceId) problems.push(`${where}: field ${f.matcherRegex} holds ${value}, not the trace id`);
      else otlpCovered = true;
    } else {
      const m = new RegExp(f.matcherRegex).exec(inp.stdoutLine);
      if (!m) problems.push(`${where}: the regex ${f.matcherRegex} does not match the demo's log line ${inp.stdoutLine.trim()}`);
      else if (m[1] !== inp.span.traceId) problems.push(`${where}: the regex captures ${m[1]}, not the trace id, from ${inp.stdoutLine.trim()}`);
      else stdoutCovered = true;
    }
  }
  if (!otlpCovered) problems.push(`${link}: no derived field reads the trace id of OTLP logs (structured metadata ${lokiLogRecordMetadata.traceId})`);
  if (!stdoutCovered) problems.push(`${link}: no derived field reads the trace id from the demo's stdout lines`);
  return problems;
}

/** Exemplars: Mimir's destinations name exactly the labels exemplars carry, and lead to Tempo. */
export function checkExemplars(inp: CorrelationInputs): string[] {
  const link = 'exemplars → trace (Mimir exemplarTraceIdDestinations)';
  const dests: Json[] = byType(inp, 'prometheus')?.jsonData?.exemplarTraceIdDestinations ?? [];
  const problems: string[] = [];
  const generated = tempoGeneratedSeries(inp.tempo);
  const carried = new Map<string, string>([
    [generated.exemplarLabel, "Tempo's metrics-generator"],
    [otlpExemplarLabels.traceId, 'OTLP metrics through Mimir'],
  ]);
  for (const [label, source] of carried) {
    if (!dests.some((d) => d.name === label)) problems.push(`${link}: exemplars from ${source} carry ${label}, and no destination reads it`);
  }
  for (const d of dests) {
    const where = `${link} "${d.name}"`;
    if (!carried.has(d.name)) problems.push(`${where}: no exemplar carries a label ${d.name} (they carry ${[...carried.keys()].join(', ')})`);
    problems.push(...pointsTo(inp, where, d.datasourceUid, 'tempo'));
  }
  return problems;
}

export const correlationChecks = { checkTraceToLogs, checkTraceToMetrics, checkServiceMap, checkLogsToTrace, checkExemplars };

export function allCorrelationProblems(inp: CorrelationInputs): string[] {
  return Object.values(correlationChecks).flatMap((check) => check(inp));
}
