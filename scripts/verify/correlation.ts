/**
 * What Grafana's UI does with a datasource's correlation settings, as pure functions, so verify can run the same
 * queries through /api/ds/query:
 * - trace → logs: the Tempo datasource's tracesToLogsV2 turned into a LogQL query and a time range
 *   (grafana/grafana public/app/features/explore/TraceView/createSpanLink.tsx, getQueryForLoki / getTimeRangeFromSpan;
 *   docs/sources/datasources/tempo/configure-tempo-data-source/configure-trace-to-logs.md);
 * - logs → trace: the Loki datasource's derivedFields applied to a log row (matcherType "label" reads a label or
 *   structured metadata field, "regex" takes the first group of the line; docs/sources/datasources/loki/configure-loki-data-source.md);
 * - exemplar → trace: the Prometheus datasource's exemplarTraceIdDestinations (label name → datasource uid).
 */

export interface TagMapping {
  key: string;
  value?: string;
}

export interface TracesToLogs {
  datasourceUid?: string;
  tags?: TagMapping[];
  customQuery?: boolean;
  query?: string;
  filterByTraceID?: boolean;
  filterBySpanID?: boolean;
  spanStartTimeShift?: string;
  spanEndTimeShift?: string;
}

export interface SpanForLink {
  traceId: string;
  spanId: string;
  name: string;
  startMs: number;
  endMs: number;
  /** Resource and span attributes together (Grafana looks in both). */
  attributes: Record<string, unknown>;
}

/** Grafana's defaults when no tags are configured (configure-trace-to-logs.md). */
export const DEFAULT_TRACE_TO_LOGS_TAGS: TagMapping[] = [
  { key: 'cluster' },
  { key: 'hostname' },
  { key: 'namespace' },
  { key: 'pod' },
  { key: 'service.name', value: 'service_name' },
  { key: 'service.namespace', value: 'service_namespace' },
];

/** "-2m", "2s", "1h", "500ms", "" → ms. */
export function parseShift(v: string | undefined): number {
  if (!v) return 0;
  const m = /^(-?\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
}

export type TraceToLogsQuery = { ok: true; expr: string; fromMs: number; toMs: number } | { ok: false; why: string };

export function traceToLogsQuery(settings: TracesToLogs | undefined, span: SpanForLink): TraceToLogsQuery {
  if (!settings?.datasourceUid) return { ok: false, why: 'the Tempo datasource has no tracesToLogsV2.datasourceUid' };
  const tags = (settings.tags?.length ? settings.tags : DEFAULT_TRACE_TO_LOGS_TAGS)
    .filter((t) => span.attributes[t.key] !== undefined && span.attributes[t.key] !== '')
    .map((t) => `${t.value || t.key}="${String(span.attributes[t.key]).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);
  // Grafana shows no "Logs for this span" link when no configured tag exists on the span.
  if (!tags.length) return { ok: false, why: `none of the configured tags (${(settings.tags ?? DEFAULT_TRACE_TO_LOGS_TAGS).map((t) => t.key).join(', ')}) is on the span, so Grafana shows no logs link` };
  let expr: string;
  if (settings.customQuery) {
    if (!settings.query) return { ok: false, why: 'tracesToLogsV2.customQuery is on but the query is empty' };
    expr = settings.query
      .replaceAll('${__tags}', tags.join(', '))
      .replaceAll('${__trace.traceId}', span.traceId)
      .replaceAll('${__span.traceId}', span.traceId)
      .replaceAll('${__span.spanId}', span.spanId)
      .replaceAll('${__span.name}', span.name);
  } else {
    expr = `{${tags.join(', ')}}`;
    if (settings.filterByTraceID) expr += ` |="${span.traceId}"`;
    if (settings.filterBySpanID) expr += ` |="${span.spanId}"`;
  }
  return { ok: true, expr, fromMs: span.startMs + parseShift(settings.spanStartTimeShift), toMs: span.endMs + parseShift(settings.spanEndTimeShift) };
}

export interface DerivedField {
  name: string;
  matcherRegex: string;
  matcherType?: 'regex' | 'label';
  url?: string;
  datasourceUid?: string;
}

export interface DerivedLink {
  field: string;
  datasourceUid: string;
  /** The query the link opens (the url template with ${__value.raw} filled in). */
  query: string;
}

/** The internal links Grafana derives from one log row (labels include structured metadata). */
export function deriveLinks(fields: DerivedField[] | undefined, row: { labels: Record<string, unknown>; line: string }): DerivedLink[] {
  const links: DerivedLink[] = [];
  for (const f of fields ?? []) {
    if (!f.datasourceUid) continue;
    let value: string | undefined;
    if (f.matcherType === 'label') {
      const v = row.labels[f.matcherRegex];
      value = v === undefined || v === '' ? undefined : String(v);
    } else {
      try {
        value = new RegExp(f.matcherRegex).exec(row.line)?.[1];
      } catch {
        value = undefined;
      }
    }
    if (value === undefined) continue;
    const template = f.url || '${__value.raw}';
    links.push({ field: f.name, datasourceUid: f.datasourceUid, query: template.replaceAll('${__value.raw}', value) });
  }
  return links;
}

export interface ExemplarDestination {
  name: string;
  datasourceUid?: string;
  url?: string;
}
