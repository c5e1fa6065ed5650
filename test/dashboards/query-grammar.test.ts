/** The grammar helper the dashboard checks rely on (test/support/query-grammar.ts). */
import { describe, expect, it } from 'vitest';
import { promqlMetricNames, promqlSelectors, substituteMacros, syntaxErrors } from '../support/query-grammar.js';

describe('substituteMacros', () => {
  it('turns interval macros into a duration and variables into identifiers', () => {
    expect(substituteMacros('rate(x{a=~"$svc", b="${inst}", c="${v:regex}"}[$__rate_interval])')).toBe(
      'rate(x{a=~"var_svc", b="var_inst", c="var_v"}[5m])',
    );
    expect(substituteMacros('{a="${__field.labels.service_name:percentencode}"} [$__auto]')).toBe('{a="var___field_labels_service_name"} [5m]');
  });
});

describe('syntaxErrors', () => {
  it.each([
    ['promql', 'sum by (le) (rate(http_server_request_duration_seconds_bucket{job="a"}[$__rate_interval]))'],
    ['promql', 'count(group by (instance) (up)) or vector(0)'],
    ['logql', '{service_name=~"$service"} | detected_level=~"error|fatal"'],
    ['logql', 'sum by (detected_level) (count_over_time({service_name=~".+"} [$__auto]))'],
    ['traceql', '{}'],
    ['traceql', '{ status = error }'],
    ['traceql', '{ resource.service.name = "${__field.labels.service_name:percentencode}" && span.http.route = "x" }'],
  ] as const)('accepts %s %s', (language, query) => {
    expect(syntaxErrors(language, query)).toEqual([]);
  });

  it.each([
    ['promql', 'rate(x[5m]'],
    ['promql', 'up{job="a"'],
    ['promql', ''],
    ['logql', 'count_over_time({app="x"})'],
    ['logql', '{app="x"'],
    ['traceql', '{ span.http.status_code = 200'],
  ] as const)('rejects %s %s', (language, query) => {
    expect(syntaxErrors(language, query).length).toBeGreaterThan(0);
  });
});

describe('promqlSelectors', () => {
  it('finds metric names, matcher labels and the range function', () => {
    const q = 'histogram_quantile(0.9, sum by (le) (rate(a_bucket{job="x", route=~"y"}[5m]))) / on() group_left b{c="d"} + {__name__="e"}';
    expect(promqlSelectors(q).map(({ metric, labels, rangeFunction }) => ({ metric, labels, rangeFunction }))).toEqual([
      { metric: 'a_bucket', labels: ['job', 'route'], rangeFunction: 'rate' },
      { metric: 'b', labels: ['c'], rangeFunction: undefined },
      { metric: 'e', labels: [], rangeFunction: undefined },
    ]);
    expect(promqlMetricNames('sum(x) + sum(x) + y')).toEqual(['x', 'y']);
  });
});
