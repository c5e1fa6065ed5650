/**
 * How Grafana turns the Tempo datasource's trace → logs and trace → metrics settings into the query it sends,
 * for one span, so the tests can parse and check what Grafana would really run. Mirrors grafana/grafana
 * public/app/features/explore/TraceView/ (stored snapshot of main, see the closing note of issue #14):
 * - createSpanLink.tsx `legacyCreateSpanLinkFactory`: scoped variables `__trace` (scopedVarsFromTrace in
 *   createTraceLink.ts), `__span` (scopedVarsFromSpan) and `__tags`; a logs link whose query uses a variable
 *   that is not defined is not shown (getVariableUsageInfo);
 * - components/logsLink.ts `getTraceToLogsQuery`: for Loki, `__tags` is getFormattedTags(span tags, the
 *   configured tags, dots → underscores in label names); a custom query is used as written;
 * - crossSignalConfig.ts `getFormattedTags` / `toLokiLabelName`; for metrics the label names are not rewritten;
 * - public/app/features/variables/utils.ts `variableRegex`, the syntax templateSrv.replace expands.
 */

export interface SpanFixture {
  traceId: string;
  spanId: string;
  name: string;
  /** Resource attributes (Grafana's span.process.tags) and span attributes (span.tags). */
  resource: Record<string, string>;
  attributes: Record<string, string>;
}

export interface TagMapping {
  key: string;
  value?: string;
}

export interface ExpandedQuery {
  /** The query Grafana sends, or undefined when Grafana shows no link. */
  query?: string;
  /** Why Grafana shows no link. */
  hidden?: string;
}

const variableRegex = /\$(\w+)|\[\[([\s\S]+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}/g;

type Scoped = Record<string, { value: unknown }>;

/** Grafana's span tags (getSpanTags): resource attributes, span attributes, then spanId, traceId, name. */
function spanTags(span: SpanFixture): { key: string; value: string }[] {
  return [
    ...Object.entries(span.resource).map(([key, value]) => ({ key, value })),
    ...Object.entries(span.attributes).map(([key, value]) => ({ key, value })),
    { key: 'spanId', value: span.spanId },
    { key: 'traceId', value: span.traceId },
    { key: 'name', value: span.name },
  ];
}

function formattedTags(span: SpanFixture, mappings: TagMapping[], normalize: (s: string) => string = (s) => s): string {
  return spanTags(span)
    .flatMap((tag) => {
      const m = mappings.find((x) => x.key === tag.key);
      return m ? [`${normalize(m.value ? m.value : m.key)}="${tag.value}"`] : [];
    })
    .join(', ');
}

function scopedVars(span: SpanFixture, tags: string): Scoped {
  return {
    __trace: { value: { traceId: span.traceId, name: span.name } },
    __span: { value: { spanId: span.spanId, traceId: span.traceId, name: span.name, tags: { ...span.resource, ...span.attributes } } },
    __tags: { value: tags },
  };
}

/** templateSrv.replace with scoped variables only; `undefinedNames` collects variables it could not fill. */
function replaceVariables(text: string, vars: Scoped, undefinedNames: string[]): string {
  return text.replace(variableRegex, (match, bare?: string, bracket?: string, _fmt?: string, braced?: string, fieldPath?: string) => {
    const name = bare ?? bracket ?? braced!;
    const v = vars[name];
    if (!v) {
      undefinedNames.push(match);
      return match;
    }
    let value: unknown = v.value;
    if (fieldPath) {
      for (const part of fieldPath.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined) {
      undefinedNames.push(match);
      return match;
    }
    return String(value);
  });
}

export interface TracesToLogsV2 {
  datasourceUid?: string;
  tags?: TagMapping[];
  filterByTraceID?: boolean;
  filterBySpanID?: boolean;
  customQuery?: boolean;
  query?: string;
}

/** The LogQL query the span's "Related logs" link runs in Loki (Grafana's legacy, non-dynamic path). */
export function traceToLogsQuery(options: TracesToLogsV2, span: SpanFixture): ExpandedQuery {
  const defaults = ['cluster', 'hostname', 'namespace', 'pod', 'service.name', 'service.namespace'].map((key) => ({
    key,
    value: key.includes('.') ? key.replace(/\./g, '_') : undefined,
  }));
  const mappings = options.tags && options.tags.length > 0 ? options.tags : defaults;
  const tags = formattedTags(span, mappings, (s) => s.replace(/\./g, '_'));
  let query: string;
  if (options.customQuery && options.query) {
    query = options.query;
  } else {
    if (!tags) return { hidden: 'none of the configured tags is on the span, so Grafana shows no logs link' };
    query = '{${__tags}}';
    if (options.filterByTraceID) {
      query +=
        ' | label_format log_line_contains_trace_id=`{{ contains "${__span.traceId}" __line__  }}` | log_line_contains_trace_id="true" or trace_id="${__span.traceId}"';
    }
    if (options.filterBySpanID) {
      query +=
        ' | label_format log_line_contains_span_id=`{{ contains "${__span.spanId}" __line__  }}` | log_line_contains_span_id="true" or span_id="${__span.spanId}"';
    }
  }
  const missing: string[] = [];
  const expanded = replaceVariables(query, scopedVars(span, tags), missing);
  if (missing.length) return { hidden: `${missing.join(', ')} is not defined for a span, so Grafana hides the logs link` };
  return { query: expanded };
}

export interface TracesToMetrics {
  datasourceUid?: string;
  tags?: TagMapping[];
  queries?: { name?: string; query?: string }[];
}

/** The PromQL query each trace → metrics link runs (variables Grafana cannot fill stay in the text, as templateSrv leaves them). */
export function traceToMetricsQueries(options: TracesToMetrics, span: SpanFixture): { name: string; query: string }[] {
  const defaults = ['cluster', 'hostname', 'namespace', 'pod', 'service.name', 'service.namespace'].map((key) => ({
    key,
    value: key.includes('.') ? key.replace(/\./g, '_') : undefined,
  }));
  const mappings = options.tags && options.tags.length > 0 ? options.tags : defaults;
  const vars = scopedVars(span, formattedTags(span, mappings));
  return (options.queries ?? []).map((q, i) => ({
    name: q.name ?? `query ${i + 1}`,
    query: replaceVariables(
      q.query || `histogram_quantile(0.5, sum(rate(traces_spanmetrics_latency_bucket{service="${span.resource['service.name']}"}[5m])) by (le))`,
      vars,
      [],
    ),
  }));
}
