/**
 * The checks `verify` runs, in five stages: availability, send, backends, Grafana, correlation. Each is data
 * (id, needs, timeout, run); the runner orders them, the command prints them, the e2e suite reads their ids.
 */
import type { Frame } from '../clients/grafana.js';
import { describeAnswer } from '../clients/http.js';
import { sameTraceId, type TempoSpan } from '../clients/tempo.js';
import { sendSignal, type Signal } from '../otlp/send.js';
import { RUN_LABEL, VERIFY_METRICS, VERIFY_NAMESPACE, VERIFY_SERVICES } from '../otlp/verify-telemetry.js';
import type { Attempt, Check, VerifyContext } from './check.js';
import { deriveLinks, traceToLogsQuery, type DerivedField, type ExemplarDestination, type TracesToLogs } from './correlation.js';

const S = 1000;
const pass = (detail: string, value?: unknown): Attempt => ({ ok: true, detail, value });
const notYet = (expected: string, got: string): Attempt => ({ ok: false, expected, got });
const broken = (expected: string, got: string): Attempt => ({ ok: false, expected, got, final: true });

/** LogQL for this run's logs (Loki indexes service_namespace; verify_run is structured metadata). */
export const runLogsQuery = (runId: string) => `{service_namespace="${VERIFY_NAMESPACE}"} | ${RUN_LABEL}="${runId}"`;
export const runHistogramSelector = (runId: string) => `${VERIFY_METRICS.histogram.prometheus}_bucket{${RUN_LABEL}="${runId}"}`;
export const runCounterSelector = (runId: string) => `${VERIFY_METRICS.counter.prometheus}{${RUN_LABEL}="${runId}"}`;
export const serviceGraphQuery = `traces_service_graph_request_total{client="${VERIFY_SERVICES.client}", server="${VERIFY_SERVICES.server}"}`;
export const spanMetricsQuery = `sum by (service) (traces_spanmetrics_calls_total{service=~"${VERIFY_SERVICES.client}|${VERIFY_SERVICES.server}"})`;

function readinessChecks(ctx: { stack: VerifyContext['stack'] }): Check[] {
  return ctx.stack.components
    .filter((c) => c.readiness && c.name !== 'grafana')
    .map((c) => ({
      id: `ready.${c.name}`,
      stage: 'availability' as const,
      title: `${c.name} ready (${c.readiness!.path})`,
      needs: [],
      timeoutMs: 10 * S,
      async run(v: VerifyContext) {
        const http = v.clients.readiness(c.name);
        if (!http) return broken(`${c.name} to publish port ${c.readiness!.port}`, 'no published or forwarded port');
        const a = await http.request(c.readiness!.path, { timeoutMs: 2 * S });
        return a.status === 200 ? pass(`HTTP 200 from ${http.url(c.readiness!.path)}`) : notYet(`HTTP 200 from ${http.url(c.readiness!.path)}`, describeAnswer(a));
      },
    }));
}

const grafanaHealth: Check = {
  id: 'ready.grafana',
  stage: 'availability',
  title: 'grafana ready (/api/health, database ok)',
  needs: [],
  timeoutMs: 10 * S,
  async run(v) {
    const h = await v.clients.grafana.health();
    return h.ok ? pass(`Grafana ${h.version}, database ${h.database}`) : notYet('{"database": "ok"} from /api/health', h.got);
  },
};

function sendCheck(signal: Signal, what: string): Check {
  return {
    id: `send.${signal}`,
    stage: 'send',
    title: `send ${what} to Alloy (OTLP/HTTP protobuf)`,
    needs: ['ready.alloy'],
    timeoutMs: 10 * S,
    async run(v) {
      const r = await sendSignal(v.clients.otlp, signal, v.telemetry);
      return r.ok ? pass(`${r.bytes} bytes accepted by ${v.clients.otlp.url('/v1/' + signal)}`) : notYet(`a 2xx from ${v.clients.otlp.url('/v1/' + signal)}`, r.got);
    },
  };
}

/** What the trace must look like: ≥4 spans, both services, a client/server pair between them, an error span. */
function traceShape(spans: TempoSpan[]): string | undefined {
  const services = new Set(spans.map((s) => s.service));
  const client = spans.find((s) => s.kind === 'SPAN_KIND_CLIENT' && s.service === VERIFY_SERVICES.client);
  const server = client && spans.find((s) => s.kind === 'SPAN_KIND_SERVER' && s.parentSpanId === client.spanId && s.service === VERIFY_SERVICES.server);
  const missing = [
    spans.length < 4 && `4 spans (has ${spans.length})`,
    !(services.has(VERIFY_SERVICES.client) && services.has(VERIFY_SERVICES.server)) && `both services (has ${[...services].join(', ')})`,
    !server && 'a client span with its server child',
    !spans.some((s) => s.status === 'STATUS_CODE_ERROR') && 'an error span',
  ].filter(Boolean);
  return missing.length ? missing.join(', ') : undefined;
}

const tempoTrace: Check = {
  id: 'tempo.trace',
  stage: 'backends',
  title: 'Tempo returns the trace by id',
  needs: ['send.traces', 'ready.tempo'],
  timeoutMs: 30 * S,
  async run(v) {
    const id = v.telemetry.traceId;
    const r = await v.clients.tempo.traceById(id);
    if (!r.found) return notYet(`trace ${id} from ${v.clients.tempo.http.url(`/api/v2/traces/${id}`)}`, r.got);
    const missing = traceShape(r.spans);
    if (missing) return notYet(`trace ${id} with ${missing}`, `${r.spans.length} spans`);
    return pass(`${r.spans.length} spans, services ${[...new Set(r.spans.map((s) => s.service))].join(' → ')}, 1 error span`, r.spans);
  },
};

const tempoSearch: Check = {
  id: 'tempo.traceql',
  stage: 'backends',
  title: 'Tempo finds the trace with TraceQL',
  needs: ['send.traces', 'ready.tempo'],
  timeoutMs: 30 * S,
  wait: "Tempo's search leaves out the newest 30 s (query_end_cutoff)",
  async run(v) {
    const q = `{ resource.service.namespace = "${VERIFY_NAMESPACE}" && span.verify.run = "${v.telemetry.runId}" && status = error }`;
    const r = await v.clients.tempo.search(q);
    if (!r.ok) return notYet(`an answer to ${q}`, r.got);
    const hit = r.hits.find((h) => sameTraceId(h.traceId, v.telemetry.traceId));
    return hit ? pass(`${q} → ${hit.traceId}`) : notYet(`trace ${v.telemetry.traceId} in the results of ${q}`, r.hits.length ? `${r.hits.length} other traces` : 'no traces');
  },
};

const lokiLogs: Check = {
  id: 'loki.logs',
  stage: 'backends',
  title: 'Loki returns the logs with trace_id in structured metadata',
  needs: ['send.logs', 'ready.loki'],
  timeoutMs: 30 * S,
  async run(v) {
    const t = v.telemetry;
    const q = `{service_namespace="${VERIFY_NAMESPACE}"} | trace_id="${t.traceId}"`;
    const r = await v.clients.loki.queryRange(q, t.startMs - 60 * S, v.clock.now() + 60 * S);
    if (!r.ok) return notYet(`an answer to ${q}`, r.got);
    const withId = r.entries.filter((e) => e.structuredMetadata.trace_id === t.traceId);
    if (withId.length < t.logs.length) {
      const got = r.entries.length ? `${r.entries.length} lines, ${withId.length} with structured metadata trace_id=${t.traceId}` : 'no log lines (empty result)';
      return notYet(`${t.logs.length} log lines with structured metadata trace_id=${t.traceId}`, got);
    }
    return pass(`${withId.length} lines for ${q}, trace_id and span_id in structured metadata`);
  },
};

const mimirSeries: Check = {
  id: 'mimir.series',
  stage: 'backends',
  title: 'Mimir returns the counter and the histogram by PromQL',
  needs: ['send.metrics', 'ready.mimir'],
  timeoutMs: 30 * S,
  async run(v) {
    const runId = v.telemetry.runId;
    for (const expr of [runCounterSelector(runId), `${VERIFY_METRICS.histogram.prometheus}_count{${RUN_LABEL}="${runId}"}`]) {
      const r = await v.clients.mimir.query(expr);
      if (!r.ok) return notYet(`an answer to ${expr}`, r.got);
      if (!r.samples.length) return notYet(`a series for ${expr}`, 'an empty result');
    }
    return pass(`${VERIFY_METRICS.counter.prometheus} and ${VERIFY_METRICS.histogram.prometheus} for run ${runId}`);
  },
};

const mimirExemplar: Check = {
  id: 'mimir.exemplar',
  stage: 'backends',
  title: 'Mimir returns the exemplar through query_exemplars',
  needs: ['send.metrics', 'ready.mimir'],
  timeoutMs: 30 * S,
  async run(v) {
    const t = v.telemetry;
    const expr = runHistogramSelector(t.runId);
    const r = await v.clients.mimir.exemplars(expr, Math.floor(t.startMs / S) - 60, Math.ceil(v.clock.now() / S) + 60);
    if (!r.ok) return notYet(`an answer to query_exemplars ${expr}`, r.got);
    const all = r.series.flatMap((s) => s.exemplars);
    const mine = all.find((e) => e.labels.trace_id === t.traceId);
    return mine ? pass(`exemplar trace_id=${t.traceId} on ${expr}`) : notYet(`an exemplar with trace_id=${t.traceId} on ${expr}`, all.length ? `${all.length} exemplars, none for this trace` : 'no exemplars');
  },
};

function datasourceChecks(v: Pick<VerifyContext, 'provisioned'>): Check[] {
  return v.provisioned.datasources.map((d) => ({
    id: `grafana.datasource.${d.uid}`,
    stage: 'grafana' as const,
    title: `datasource ${d.name} (${d.uid}) passes its health check`,
    // Not behind ready.grafana: when something answers on Grafana's port but is not Grafana, say what is missing.
    needs: [],
    timeoutMs: 15 * S,
    async run(ctx: VerifyContext) {
      const ds = await ctx.clients.grafana.datasource(d.uid);
      if (!ds.ok) return ds.status === 401 || ds.status === 403 || ds.status === 404 ? broken(`datasource ${d.uid} in Grafana`, ds.got) : notYet(`datasource ${d.uid} in Grafana`, ds.got);
      const h = await ctx.clients.grafana.datasourceHealth(d.uid);
      if (!h.ok) return h.status === 401 || h.status === 403 ? broken(`health OK for ${d.uid}`, h.got) : notYet(`health OK for ${d.uid}`, h.got);
      return pass(h.message || 'OK', ds.datasource);
    },
  }));
}

function dashboardsCheck(v: Pick<VerifyContext, 'provisioned'>): Check {
  return {
    id: 'grafana.dashboards',
    stage: 'grafana',
    title: `every provisioned dashboard is found by uid (${v.provisioned.dashboards.length})`,
    needs: [],
    timeoutMs: 15 * S,
    async run(ctx) {
      const answers = await Promise.all(ctx.provisioned.dashboards.map(async (d) => ({ d, r: await ctx.clients.grafana.dashboard(d.uid) })));
      const missing = answers.filter((a) => !a.r.ok);
      if (missing.length) {
        const first = missing[0].r as { got: string; status: number };
        const got = `${missing.map((m) => m.d.uid).join(', ')} missing (${first.got})`;
        return first.status === 401 || first.status === 403 ? broken('every dashboard by uid', got) : notYet('every dashboard by uid', got);
      }
      return pass(answers.map((a) => a.d.uid).join(', '));
    },
  };
}

type DS = { uid: string; type: string; name: string; jsonData: Record<string, any> };
const dsOfType = (ctx: VerifyContext, type: string): DS | undefined => {
  const d = ctx.provisioned.datasources.find((x) => x.type === type);
  return d ? ctx.value<DS>(`grafana.datasource.${d.uid}`) : undefined;
};
const needsDs = (ctx: Pick<VerifyContext, 'provisioned'>, ...types: string[]) =>
  types.flatMap((t) => ctx.provisioned.datasources.filter((d) => d.type === t).slice(0, 1).map((d) => `grafana.datasource.${d.uid}`));

/** Opens a trace through Grafana the way a trace link does (Tempo datasource, queryType traceId). */
async function openTrace(ctx: VerifyContext, datasourceUid: string, traceId: string): Promise<{ ok: true; spans: number } | { ok: false; got: string }> {
  const t = ctx.telemetry;
  const r = await ctx.clients.grafana.query({ uid: datasourceUid }, { queryType: 'traceId', query: traceId }, t.startMs - 60 * S, ctx.clock.now() + 60 * S);
  if (!r.ok) return { ok: false, got: r.got };
  const rows = r.frames.flatMap((f) => f.rows).filter((row) => sameTraceId(String(row.traceID ?? ''), traceId));
  return rows.length ? { ok: true, spans: rows.length } : { ok: false, got: 'no spans in the answer' };
}

const traceToLogs = (ctx: Pick<VerifyContext, 'provisioned'>): Check => ({
  id: 'correlation.trace-to-logs',
  stage: 'correlation',
  title: "trace → logs: the Tempo datasource's trace-to-logs query finds the span's log",
  needs: ['tempo.trace', 'loki.logs', ...needsDs(ctx, 'tempo', 'loki')],
  timeoutMs: 20 * S,
  async run(v) {
    const tempo = dsOfType(v, 'tempo');
    if (!tempo) return broken('a provisioned Tempo datasource', 'none');
    const settings = tempo.jsonData.tracesToLogsV2 as TracesToLogs | undefined;
    const spans = v.value<TempoSpan[]>('tempo.trace');
    const span = spans.find((s) => s.status === 'STATUS_CODE_ERROR') ?? spans[0];
    const sent = v.telemetry.spans.find((s) => s.spanId === span.spanId);
    const link = traceToLogsQuery(settings, {
      traceId: v.telemetry.traceId,
      spanId: span.spanId,
      name: span.name,
      startMs: sent?.startMs ?? v.telemetry.startMs,
      endMs: sent?.endMs ?? v.telemetry.endMs,
      attributes: { ...span.resource, ...span.attributes },
    });
    if (!link.ok) return broken(`a trace-to-logs link on span "${span.name}"`, link.why);
    const r = await v.clients.grafana.query({ uid: settings!.datasourceUid! }, { expr: link.expr, queryType: 'range', maxLines: 100 }, link.fromMs, link.toMs);
    if (!r.ok) return notYet(`log lines for ${link.expr} through Grafana`, r.got);
    const rows = logRows(r.frames);
    const mine = rows.filter((row) => row.labels.trace_id === v.telemetry.traceId || row.line.includes(v.telemetry.traceId));
    if (!mine.length) return notYet(`the trace-to-logs query ${link.expr} (datasource ${settings!.datasourceUid}) to find the log of span "${span.name}"`, rows.length ? `${rows.length} lines, none of trace ${v.telemetry.traceId}` : 'no log lines');
    return pass(`${link.expr} → ${mine.length} line(s)`, link.expr);
  },
});

interface LogRow {
  labels: Record<string, unknown>;
  line: string;
}
/** Log rows from Loki frames: dataplane (labels, body) or the older shape (labels, Line). */
function logRows(frames: Frame[]): LogRow[] {
  return frames.flatMap((f) =>
    f.rows.map((row) => {
      let labels = row.labels as Record<string, unknown> | string | undefined;
      if (typeof labels === 'string') {
        try {
          labels = JSON.parse(labels) as Record<string, unknown>;
        } catch {
          labels = {};
        }
      }
      return { labels: (labels as Record<string, unknown>) ?? {}, line: String(row.body ?? row.Line ?? '') };
    }),
  );
}

const logsToTrace = (ctx: Pick<VerifyContext, 'provisioned'>): Check => ({
  id: 'correlation.logs-to-trace',
  stage: 'correlation',
  title: "logs → trace: the Loki datasource's derived fields turn the log line into the trace",
  needs: ['loki.logs', ...needsDs(ctx, 'loki', 'tempo')],
  timeoutMs: 20 * S,
  async run(v) {
    const loki = dsOfType(v, 'loki');
    if (!loki) return broken('a provisioned Loki datasource', 'none');
    const fields = loki.jsonData.derivedFields as DerivedField[] | undefined;
    if (!fields?.some((f) => f.datasourceUid)) return broken('derived fields linking to a trace datasource on the Loki datasource', 'none configured');
    const expr = runLogsQuery(v.telemetry.runId);
    const r = await v.clients.grafana.query({ uid: loki.uid }, { expr, queryType: 'range', maxLines: 100 }, v.telemetry.startMs - 60 * S, v.clock.now() + 60 * S);
    if (!r.ok) return notYet(`log lines for ${expr} through Grafana`, r.got);
    const rows = logRows(r.frames);
    if (!rows.length) return notYet(`log lines for ${expr} through Grafana`, 'no log lines');
    const links = rows.flatMap((row) => deriveLinks(fields, row));
    const link = links.find((l) => sameTraceId(l.query, v.telemetry.traceId));
    if (!link) return broken(`a derived field giving trace ${v.telemetry.traceId}`, links.length ? `links to ${[...new Set(links.map((l) => l.query))].join(', ')}` : `no derived field (${fields.map((f) => f.name).join(', ')}) matched the log row`);
    const opened = await openTrace(v, link.datasourceUid, link.query);
    if (!opened.ok) return notYet(`the trace ${link.query} opened through datasource ${link.datasourceUid}`, opened.got);
    return pass(`derived field ${link.field} → trace ${link.query} (${opened.spans} spans via ${link.datasourceUid})`);
  },
});

const exemplarToTrace = (ctx: Pick<VerifyContext, 'provisioned'>): Check => ({
  id: 'correlation.exemplar-to-trace',
  stage: 'correlation',
  title: "exemplar → trace: the Mimir datasource's exemplar link opens the trace",
  needs: ['mimir.exemplar', ...needsDs(ctx, 'prometheus', 'tempo')],
  timeoutMs: 20 * S,
  async run(v) {
    const prom = dsOfType(v, 'prometheus');
    if (!prom) return broken('a provisioned Prometheus (Mimir) datasource', 'none');
    const destinations = (prom.jsonData.exemplarTraceIdDestinations ?? []) as ExemplarDestination[];
    if (!destinations.some((d) => d.datasourceUid)) return broken('exemplarTraceIdDestinations with a datasourceUid', 'none configured');
    const expr = runHistogramSelector(v.telemetry.runId);
    const r = await v.clients.grafana.query(
      { uid: prom.uid },
      { expr, range: true, instant: false, exemplar: true, intervalMs: 15_000, maxDataPoints: 200 },
      v.telemetry.startMs - 60 * S,
      v.clock.now() + 60 * S,
    );
    if (!r.ok) return notYet(`exemplars for ${expr} through Grafana`, r.got);
    const exemplars = r.frames.filter((f) => f.name === 'exemplar').flatMap((f) => f.rows);
    for (const d of destinations.filter((x) => x.datasourceUid)) {
      const row = exemplars.find((e) => sameTraceId(String(e[d.name] ?? ''), v.telemetry.traceId));
      if (!row) continue;
      const opened = await openTrace(v, d.datasourceUid!, v.telemetry.traceId);
      if (!opened.ok) return notYet(`the trace opened through datasource ${d.datasourceUid}`, opened.got);
      return pass(`exemplar label ${d.name} → trace via ${d.datasourceUid} (${opened.spans} spans)`);
    }
    return notYet(
      `an exemplar whose label ${destinations.map((d) => d.name).join(' or ')} is ${v.telemetry.traceId}`,
      exemplars.length ? `${exemplars.length} exemplars, none for this trace` : 'no exemplar frame',
    );
  },
});

const GENERATOR_WAIT = "Tempo's metrics-generator writes its series every 15 s (collection_interval)";

const generatorSeries = (ctx: Pick<VerifyContext, 'provisioned'>, kind: 'service-graph' | 'span-metrics'): Check => ({
  id: `correlation.${kind}`,
  stage: 'correlation',
  title: kind === 'service-graph' ? 'service graph: the edge between the verify services is in Mimir' : 'span metrics: both verify services have span metrics in Mimir',
  needs: ['tempo.trace', ...needsDs(ctx, 'tempo')],
  timeoutMs: 60 * S,
  wait: GENERATOR_WAIT,
  async run(v) {
    const tempo = dsOfType(v, 'tempo');
    if (!tempo) return broken('a provisioned Tempo datasource', 'none');
    const target = kind === 'service-graph' ? tempo.jsonData.serviceMap?.datasourceUid : tempo.jsonData.tracesToMetrics?.datasourceUid;
    const setting = kind === 'service-graph' ? 'serviceMap.datasourceUid' : 'tracesToMetrics.datasourceUid';
    if (!target) return broken(`the Tempo datasource's ${setting}`, 'not set');
    const expr = kind === 'service-graph' ? serviceGraphQuery : spanMetricsQuery;
    const now = v.clock.now();
    const r = await v.clients.grafana.query({ uid: target }, { expr, instant: true, range: false }, now - 5 * 60 * S, now);
    if (!r.ok) return notYet(`${expr} through datasource ${target} (${setting})`, r.got);
    const series = r.frames.filter((f) => f.rows.length);
    if (kind === 'service-graph') {
      return series.length ? pass(`${VERIFY_SERVICES.client} → ${VERIFY_SERVICES.server} via ${target}`) : notYet(`${expr} in ${target}`, 'no series yet');
    }
    const services = new Set(series.map((f) => f.labels.service).filter(Boolean));
    const missing = Object.values(VERIFY_SERVICES).filter((s) => !services.has(s));
    return missing.length ? notYet(`traces_spanmetrics_calls_total for ${Object.values(VERIFY_SERVICES).join(' and ')} in ${target}`, `missing ${missing.join(', ')}`) : pass(`calls for ${[...services].join(', ')} via ${target}`);
  },
});

/** Every check, in display order. */
export function verifyChecks(ctx: Pick<VerifyContext, 'stack' | 'provisioned'>): Check[] {
  return [
    ...readinessChecks(ctx),
    grafanaHealth,
    sendCheck('traces', 'a trace (4 spans, 2 services, 1 error)'),
    sendCheck('logs', 'logs with the trace ids'),
    sendCheck('metrics', 'a counter and a histogram with an exemplar'),
    tempoTrace,
    tempoSearch,
    lokiLogs,
    mimirSeries,
    mimirExemplar,
    ...datasourceChecks(ctx),
    dashboardsCheck(ctx),
    traceToLogs(ctx),
    logsToTrace(ctx),
    exemplarToTrace(ctx),
    generatorSeries(ctx, 'service-graph'),
    generatorSeries(ctx, 'span-metrics'),
  ];
}

