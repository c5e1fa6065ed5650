/**
 * Query grammars Grafana itself uses to parse PromQL, LogQL and TraceQL (lezer), with the
 * macro substitution a query needs before it can be parsed (shared/design/TOOLING.md §4).
 *
 *   syntaxErrors('promql', 'rate(x[$__rate_interval])')      // [] == valid
 *   promqlMetricNames('sum(rate(a_total{job="x"}[5m]))')      // ['a_total']
 */
import type { LRParser } from '@lezer/lr';
import type { SyntaxNode } from '@lezer/common';
import { parser as promqlParser } from '@prometheus-io/lezer-promql';
import { parser as logqlParser } from '@grafana/lezer-logql';
import { parser as traceqlParser } from '@grafana/lezer-traceql';

export type QueryLanguage = 'promql' | 'logql' | 'traceql';

export const parsers: Record<QueryLanguage, LRParser> = {
  promql: promqlParser,
  logql: logqlParser,
  traceql: traceqlParser,
};

export interface SyntaxError {
  from: number;
  to: number;
  /** The query text around the error, for messages. */
  near: string;
}

/**
 * Replaces Grafana's interval macros with a duration and every template variable with a plain
 * identifier, so the grammar sees what the datasource would send:
 * `$__rate_interval`, `$__interval`, `$__range`, `$__auto` → `5m`;
 * `$var`, `${var}`, `${var:format}`, `${__field.labels.x}`, `${__data.fields.x}` → `var_…`.
 */
export function substituteMacros(query: string): string {
  return query
    .replace(/\$__(rate_interval|interval|range|auto)\b/g, '5m')
    .replace(/\$\{([\w.]+)(?::\w+)?\}|\$(\w+)/g, (_m, braced: string | undefined, bare: string | undefined) =>
      'var_' + (braced ?? bare ?? '').replace(/\W/g, '_'),
    );
}

/** Error nodes the grammar produces for `query` after macro substitution; `[]` means it parses. */
export function syntaxErrors(language: QueryLanguage, query: string): SyntaxError[] {
  const text = substituteMacros(query);
  const errors: SyntaxError[] = [];
  parsers[language].parse(text).iterate({
    enter: (node) => {
      // Zero-width error nodes are common, so test isError, not the node's length.
      if (node.type.isError) {
        errors.push({ from: node.from, to: node.to, near: text.slice(Math.max(0, node.from - 20), node.to + 20) });
      }
    },
  });
  if (text.trim() === '') errors.push({ from: 0, to: 0, near: '(empty query)' });
  return errors;
}

export interface VectorSelector {
  /** The metric name, or undefined when the selector names none (`{job="x"}`). */
  metric: string | undefined;
  /** Label names used in the selector's matchers (without `__name__`). */
  labels: string[];
  /** The function applied to the selector's range, e.g. `rate` in `rate(x[5m])`. */
  rangeFunction: string | undefined;
  text: string;
}

/** Every vector selector in a PromQL query (after macro substitution). */
export function promqlSelectors(query: string): VectorSelector[] {
  const text = substituteMacros(query);
  const selectors: VectorSelector[] = [];
  promqlParser.parse(text).iterate({
    enter: (ref) => {
      if (ref.name !== 'VectorSelector') return;
      const node = ref.node;
      let metric = node.getChild('Identifier') ? slice(text, node.getChild('Identifier')!) : undefined;
      const labels: string[] = [];
      for (const matcher of descendants(node, (n) => n.name.endsWith('LabelMatcher'))) {
        const name = matcher.getChild('LabelName');
        const value = matcher.getChild('StringLiteral');
        if (!name) continue;
        const label = slice(text, name);
        if (label === '__name__' && value && matcher.getChild('MatchOp')?.getChild('EqlSingle')) {
          metric = JSON.parse(slice(text, value)) as string;
        } else if (label !== '__name__') {
          labels.push(label);
        }
      }
      selectors.push({ metric, labels, rangeFunction: rangeFunctionOf(text, node), text: slice(text, node) });
      return false;
    },
  });
  return selectors;
}

/** Metric names a PromQL query reads, in order of appearance, without duplicates. */
export function promqlMetricNames(query: string): string[] {
  return [...new Set(promqlSelectors(query).flatMap((s) => (s.metric ? [s.metric] : [])))];
}

/** `rate` for the selector in `rate(x[5m])`: MatrixSelector → FunctionCallBody → FunctionCall. */
function rangeFunctionOf(text: string, selector: SyntaxNode): string | undefined {
  const matrix = selector.parent;
  const call = matrix?.name === 'MatrixSelector' ? matrix.parent?.parent : undefined;
  const name = call?.name === 'FunctionCall' ? call.getChild('FunctionIdentifier') : null;
  return name ? slice(text, name) : undefined;
}

function slice(text: string, node: SyntaxNode): string {
  return text.slice(node.from, node.to);
}

function descendants(node: SyntaxNode, match: (n: SyntaxNode) => boolean): SyntaxNode[] {
  const found: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) {
    if (match(child)) found.push(child);
    found.push(...descendants(child, match));
  }
  return found;
}
