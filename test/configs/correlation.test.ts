/**
 * Correlation end to end on paper: every link the README promises ("wired both ways") followed from its source
 * to its target over the configs as the backends read them (checks in ./correlation.ts). Then each link broken
 * once in a copy, to show the checks name what broke.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createLogger } from '../../demo-app/telemetry/logger.js';
import { buildStack, type Stack } from '../../scripts/stack/model.js';
import type { SpanFixture } from '../support/grafana-links.js';
import { allCorrelationProblems, correlationChecks, lokiEntryFor, tempoGeneratedSeries, type CorrelationInputs } from './correlation.js';
import { configDir, repoRoot } from './paths.js';

// ------------------------------------------------------------------------------------------------
// The configs as Loki, Tempo and Grafana read them

/** `${VAR}` and `$VAR` as -config.expand-env and Grafana provisioning expand them. */
const placeholderRe = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=+?][^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function expandedConfig(stack: Stack, source: string): any {
  const owner = stack.components.find((c) => c.configFiles.some((f) => f.source === source));
  if (!owner) throw new Error(`${source} is mounted by no component`);
  const env = Object.fromEntries(Object.entries(owner.env).map(([k, v]) => [k, typeof v === 'string' ? v : 'generated9secret']));
  const grafana = source.startsWith('grafana/');
  let text = readFileSync(join(configDir, source), 'utf8');
  if (grafana) text = text.replaceAll('$$', '\u0000');
  text = text.replace(placeholderRe, (_m, a?: string, b?: string) => {
    const name = (a ?? b)!;
    if (!(name in env)) throw new Error(`${source}: ${name} is not set for ${owner.name}`);
    return env[name];
  });
  return parseYaml(grafana ? text.replaceAll('\u0000', '$') : text);
}

/** A span of the first demo service, with the resource attribute Grafana's tag mapping reads (register.js sets service.name from the file name). */
function demoSpan(): SpanFixture {
  const service = basename(readdirSync(join(repoRoot, 'demo-app', 'services')).sort()[0], '.js');
  return { traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), name: 'GET /orders', resource: { 'service.name': service }, attributes: {} };
}

/** The demo logger's real stdout line for a log written while `span` is active. */
function stdoutLineIn(span: SpanFixture): string {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);
  try {
    let line = '';
    const log = createLogger(span.resource['service.name'], {
      write: (l: string) => {
        line += l;
        return true;
      },
    });
    const ctx = trace.setSpanContext(context.active(), { traceId: span.traceId, spanId: span.spanId, traceFlags: TraceFlags.SAMPLED });
    context.with(ctx, () => log.info('order placed', { order_id: 'o-1' }));
    return line;
  } finally {
    context.disable();
  }
}

function inputs(): CorrelationInputs {
  const stack = buildStack({ demo: true });
  const span = demoSpan();
  return {
    grafana: expandedConfig(stack, 'grafana/provisioning/datasources/datasources.yaml'),
    loki: expandedConfig(stack, 'loki/loki.yaml'),
    tempo: expandedConfig(stack, 'tempo/tempo.yaml'),
    catalog: JSON.parse(readFileSync(join(repoRoot, 'scripts', 'stack', 'metrics-catalog.json'), 'utf8')),
    span,
    stdoutLine: stdoutLineIn(span),
  };
}

const ds = (inp: CorrelationInputs, type: string) => inp.grafana.datasources.find((d: { type: string }) => d.type === type).jsonData;

// ------------------------------------------------------------------------------------------------

describe('correlation, end to end on paper', () => {
  const inp = inputs();

  it('the demo logger writes the span ids on its stdout line (the input of the regex derived field)', () => {
    expect(inp.stdoutLine).toContain(` trace_id=${inp.span.traceId} span_id=${inp.span.spanId} `);
  });

  it('Loki indexes the demo logs by service_name and keeps their trace_id as structured metadata', () => {
    const entry = lokiEntryFor(inp.loki, inp.span);
    expect(entry.rejected).toBeUndefined();
    expect(entry.labels.get('service_name')).toBe(inp.span.resource['service.name']);
    expect(entry.metadata.has('trace_id')).toBe(true);
  });

  it("Tempo's metrics-generator writes span metrics and service-graph series (both processors on, classic buckets kept)", () => {
    const generated = tempoGeneratedSeries(inp.tempo);
    expect(generated.problems).toEqual([]);
    expect([...generated.series.keys()]).toEqual(expect.arrayContaining(['traces_spanmetrics_calls_total', 'traces_spanmetrics_latency_bucket', 'traces_service_graph_request_total']));
  });

  for (const [name, check] of Object.entries(correlationChecks)) {
    it(`${name}: every link holds`, () => {
      expect(check(inp)).toEqual([]);
    });
  }
});

describe('correlation checks catch a broken link and name it', () => {
  /** A deep copy of the inputs with one change. */
  const broken = (change: (inp: CorrelationInputs) => void) => {
    const copy = structuredClone(inputs());
    change(copy);
    return allCorrelationProblems(copy).join('\n');
  };

  it('trace → logs settings removed', () => {
    expect(broken((i) => delete ds(i, 'tempo').tracesToLogsV2)).toMatch(/trace → logs .*no tracesToLogsV2/);
  });
  it('trace → logs query filters on a line instead of the structured metadata', () => {
    expect(broken((i) => (ds(i, 'tempo').tracesToLogsV2.query = '{${__tags}} |= "${__trace.traceId}"'))).toMatch(/no filter trace_id="<trace id>"/);
  });
  it('trace → logs tag mapped to a label Loki does not index', () => {
    expect(broken((i) => (ds(i, 'tempo').tracesToLogsV2.tags = [{ key: 'service.name', value: 'service' }]))).toMatch(/stream label service is not an index label/);
  });
  it('trace → logs query that does not parse, or uses a variable Grafana does not define', () => {
    expect(broken((i) => (ds(i, 'tempo').tracesToLogsV2.query = '{${__tags}} | trace_id = "${__trace.traceId}'))).toMatch(/LogQL does not parse/);
    expect(broken((i) => (ds(i, 'tempo').tracesToLogsV2.query = '{${__tags}} | trace_id = "${__trace.id}"'))).toMatch(/\$\{__trace.id\} is not defined/);
  });
  it("Loki's structured metadata turned off", () => {
    expect(broken((i) => (i.loki.limits_config.allow_structured_metadata = false))).toMatch(/allow_structured_metadata is not true/);
  });
  it('Loki told to stop indexing service.name', () => {
    expect(broken((i) => (i.loki.limits_config.otlp_config = { resource_attributes: { ignore_defaults: true, attributes_config: [{ action: 'index_label', attributes: ['k8s.pod.name'] }] } }))).toMatch(
      /stream label service_name is not an index label/,
    );
  });
  it('Tempo without the service-graph processor, or without span metrics', () => {
    const sg = (i: CorrelationInputs) => (i.tempo.overrides.defaults.metrics_generator.processors = ['span-metrics']);
    expect(broken(sg)).toMatch(/service map .*traces_service_graph_request_total is not a series Tempo's metrics-generator writes/);
    const sm = (i: CorrelationInputs) => (i.tempo.overrides.defaults.metrics_generator.processors = ['service-graphs']);
    expect(broken(sm)).toMatch(/trace → metrics .*traces_spanmetrics_calls_total is not a series/);
  });
  it('Tempo with native histograms only (no _bucket series for the p95 query)', () => {
    expect(broken((i) => (i.tempo.overrides.defaults.metrics_generator.generate_native_histograms = 'native'))).toMatch(/traces_spanmetrics_latency_bucket is not a series/);
  });
  it('Tempo with the generator storage removed', () => {
    expect(broken((i) => delete i.tempo.metrics_generator.storage.path)).toMatch(/metrics-generator is off/);
  });
  it('a typo in a trace → metrics query, or a label the series lacks', () => {
    const typo = (i: CorrelationInputs) => (ds(i, 'tempo').tracesToMetrics.queries[0].query = 'sum by (span_name) (rate(traces_spanmetrics_call_total{$__tags}[5m]))');
    expect(broken(typo)).toMatch(/"Request rate": traces_spanmetrics_call_total is not a series/);
    const label = (i: CorrelationInputs) => (ds(i, 'tempo').tracesToMetrics.tags = [{ key: 'service.name', value: 'service_name' }]);
    expect(broken(label)).toMatch(/traces_spanmetrics_calls_total has no label service_name/);
  });
  it('the service map pointed at Loki', () => {
    expect(broken((i) => (ds(i, 'tempo').serviceMap.datasourceUid = 'loki'))).toMatch(/service map .*is a loki datasource, not prometheus/);
  });
  it('a broken logs → trace matcher (label or regex)', () => {
    expect(broken((i) => (ds(i, 'loki').derivedFields[0].matcherRegex = 'trace_idx'))).toMatch(/logs → trace .*"trace_id": OTLP logs in Loki carry no field trace_idx/);
    expect(broken((i) => (ds(i, 'loki').derivedFields[1].matcherRegex = 'traceID=(\\w+)'))).toMatch(/logs → trace .*"TraceID": the regex .* does not match the demo's log line/);
  });
  it('exemplar destinations that no exemplar label matches', () => {
    expect(broken((i) => (ds(i, 'prometheus').exemplarTraceIdDestinations[0].name = 'trace.id'))).toMatch(
      /exemplars from Tempo's metrics-generator carry traceID, and no destination reads it[\s\S]*"trace.id": no exemplar carries/,
    );
  });
});
