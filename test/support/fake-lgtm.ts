/**
 * A fake LGTM stack for verify's tests: one HTTP server answering the Grafana, Tempo, Loki and Mimir API paths
 * verify calls, with answers shaped like the documented responses of the pinned versions and filled from what the
 * project's OTLP receiver (test/support/otlp-receiver.ts) actually received from verify. Nothing is canned: a
 * trace is found only when its spans arrived, a log only when a record with that trace id arrived.
 *
 * Response shapes and their sources:
 * - Tempo 3.0.3 GET /api/v2/traces/<id>: TraceByIDResponse as gogo/jsonpb writes it (ids base64, enum names),
 *   grafana/tempo pkg/tempopb/tempo.proto, cmd/tempo-vulture/testdata/trace.json, modules/frontend/combiner/common.go
 *   (404 when not found); GET /api/search: docs/sources/tempo/api_docs/_index.md "Example of TraceQL search".
 * - Loki 3.7.6 GET /loki/api/v1/query_range with categorize-labels: pkg/util/marshal/marshal_test.go
 *   queryTestWithEncodingFlags; docs/sources/reference/loki-http-api.md.
 * - Mimir 3.0.2 /prometheus/api/v1/query and query_exemplars: prometheus/prometheus docs/querying/api.md
 *   ("Instant queries", "Querying exemplars"), served under Mimir's /prometheus prefix (mimir http-api docs).
 * - Grafana 13.2.0: /api/health (docs/sources/developers/http_api/other.md), /api/datasources/uid/:uid
 *   (data_source.md), /api/datasources/uid/:uid/health (pkg/api/plugin_resource.go CheckHealth: 200 {status: OK}
 *   or 400 {status: ERROR}), /api/dashboards/uid/:uid (dashboard.md), 401/403 bodies (pkg/middleware auth,
 *   pkg/api/response), /api/ds/query frames (grafana-plugin-sdk-go data/frame_json.go): Tempo "Trace" frame
 *   (pkg/tsdb/tempo/trace_transform.go), Loki log frames (pkg/tsdb/loki/testdata_dataplane/
 *   streams_structured_metadata.golden.jsonc), Prometheus series and "exemplar" frames (pkg/promlib/querydata/
 *   exemplar/testdata/noop_sampler.jsonc, framer.go).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { OtlpReceiver, ReceivedLog, ReceivedSpan } from './otlp-receiver.js';

export interface FakeFaults {
  /** Tempo answers 404 for every trace. */
  unknownTrace?: boolean;
  /** Loki answers success with an empty result. */
  emptyLoki?: boolean;
  /** Grafana answers this status to every /api call except /api/health. */
  grafanaStatus?: 401 | 403;
  /** These datasource uids fail their health check. */
  unhealthy?: string[];
  /** Rewrites a datasource's jsonData as Grafana would hold it (a broken correlation setting). */
  datasourceJson?: Record<string, (jsonData: Record<string, any>) => Record<string, any>>;
}

export interface FakeLgtm {
  url: string;
  port: number;
  requests: string[];
  close(): Promise<void>;
}

const b64 = (hex: string) => Buffer.from(hex, 'hex').toString('base64');
const kvs = (o: Record<string, unknown>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : { stringValue: String(v) } }));
const KIND = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT'];
const STATUS = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const ns = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
const underscore = (k: string) => k.replace(/[.\-]/g, '_');

function traceByIdResponse(spans: ReceivedSpan[]) {
  const byService = new Map<string, ReceivedSpan[]>();
  for (const s of spans) byService.set(JSON.stringify(s.resource), [...(byService.get(JSON.stringify(s.resource)) ?? []), s]);
  return {
    trace: {
      resourceSpans: [...byService.entries()].map(([res, list]) => ({
        resource: { attributes: kvs(JSON.parse(res)) },
        scopeSpans: [
          {
            scope: { name: list[0].scope },
            spans: list.map((s) => ({
              traceId: b64(s.traceId),
              spanId: b64(s.spanId),
              ...(s.parentSpanId ? { parentSpanId: b64(s.parentSpanId) } : {}),
              name: s.name,
              kind: KIND[s.kind],
              startTimeUnixNano: ns(s.startMs),
              endTimeUnixNano: ns(s.startMs + s.durationMs),
              attributes: kvs(s.attributes),
              status: s.statusCode ? { code: STATUS[s.statusCode] } : {},
            })),
          },
        ],
      })),
    },
  };
}

/** The conditions of a TraceQL spanset filter joined by && (`resource.x = "v"`, `span.x = "v"`, `status = error`). */
function traceqlMatch(q: string, s: ReceivedSpan): boolean {
  const body = /^\{(.*)\}$/.exec(q.trim())?.[1] ?? '';
  return body.split('&&').every((cond) => {
    const m = /^\s*(resource|span)\.([\w.]+)\s*=\s*"([^"]*)"\s*$/.exec(cond);
    if (m) return String((m[1] === 'resource' ? s.resource : s.attributes)[m[2]]) === m[3];
    const st = /^\s*status\s*=\s*(error|ok|unset)\s*$/.exec(cond);
    if (st) return STATUS[s.statusCode] === `STATUS_CODE_${st[1].toUpperCase()}`;
    return false;
  });
}

interface LogView {
  labels: Record<string, string>;
  metadata: Record<string, string>;
  line: string;
  tsNs: string;
}

function logView(l: ReceivedLog): LogView {
  const labels: Record<string, string> = {};
  for (const k of ['service.name', 'service.namespace']) if (l.resource[k] !== undefined) labels[underscore(k)] = String(l.resource[k]);
  // Loki's OTLP ingestion: trace/span ids and severity become structured metadata, so do log attributes.
  const metadata: Record<string, string> = { trace_id: l.traceId, span_id: l.spanId, severity_text: l.severityText };
  for (const [k, v] of Object.entries(l.attributes)) metadata[underscore(k)] = String(v);
  return { labels, metadata, line: String(l.body), tsNs: ns(l.timeMs) };
}

/** `{a="b", ...} | k="v" |= "text"`: the LogQL verify and Grafana's correlation settings produce. */
function logqlMatch(q: string, v: LogView): boolean {
  const m = /^\{([^}]*)\}(.*)$/.exec(q.trim());
  if (!m) return false;
  for (const [, k, val] of m[1].matchAll(/(\w+)\s*=\s*"([^"]*)"/g)) if (v.labels[k] !== val) return false;
  for (const [, text, k, val] of m[2].matchAll(/\|=\s*"([^"]*)"|\|\s*(\w+)\s*=\s*"([^"]*)"/g)) {
    if (text !== undefined && !v.line.includes(text)) return false;
    if (k !== undefined && (v.metadata[k] ?? v.labels[k]) !== val) return false;
  }
  return true;
}

interface Series {
  labels: Record<string, string>;
  value: number;
  exemplars: { labels: Record<string, string>; value: number; timestamp: number }[];
}

/** What Mimir holds: the received OTLP metrics under their Prometheus names, and Tempo's metrics-generator series. */
function seriesFrom(rx: OtlpReceiver): Series[] {
  const out: Series[] = [];
  for (const m of rx.metrics) {
    const base = underscore(m.name) + (m.unit === 's' ? '_seconds' : '') + (m.type === 'sum' && m.isMonotonic ? '_total' : '');
    const job = `${m.resource['service.namespace']}/${m.resource['service.name']}`;
    for (const p of m.dataPoints) {
      const attrs = Object.fromEntries(Object.entries(p.attributes).map(([k, v]) => [underscore(k), String(v)]));
      const labels = { ...attrs, job, service_name: String(m.resource['service.name']), service_namespace: String(m.resource['service.namespace']) };
      if (m.type === 'histogram') {
        const ex = (p.exemplars ?? []).map((e) => ({ labels: { trace_id: e.traceId, span_id: e.spanId }, value: e.value, timestamp: e.timeMs / 1000 }));
        out.push({ labels: { __name__: `${base}_bucket`, ...labels, le: '+Inf' }, value: p.count ?? 0, exemplars: ex });
        out.push({ labels: { __name__: `${base}_count`, ...labels }, value: p.count ?? 0, exemplars: [] });
      } else out.push({ labels: { __name__: base, ...labels }, value: p.value ?? 0, exemplars: [] });
    }
  }
  for (const s of rx.spans) {
    const service = String(s.resource['service.name']);
    out.push({ labels: { __name__: 'traces_spanmetrics_calls_total', service, span_name: s.name, span_kind: KIND[s.kind], status_code: STATUS[s.statusCode] }, value: 1, exemplars: [] });
    const child = s.kind === 3 && rx.spans.find((c) => c.parentSpanId === s.spanId && c.kind === 2);
    if (child) out.push({ labels: { __name__: 'traces_service_graph_request_total', client: service, server: String(child.resource['service.name']) }, value: 1, exemplars: [] });
  }
  return out;
}

/** `name{a="b", c=~"x|y"}`, optionally wrapped in `sum by (l) (...)`. */
function promql(expr: string, all: Series[]): Series[] {
  const sum = /^sum by \((\w+)\) \((.*)\)$/.exec(expr.trim());
  const m = /^(\w+)\{(.*)\}$/.exec((sum ? sum[2] : expr).trim());
  if (!m) return [];
  const matched = all.filter(
    (s) =>
      s.labels.__name__ === m[1] &&
      [...m[2].matchAll(/(\w+)\s*(=~|=)\s*"([^"]*)"/g)].every(([, k, op, v]) => (op === '=' ? s.labels[k] === v : new RegExp(`^(?:${v})$`).test(s.labels[k] ?? ''))),
  );
  if (!sum) return matched;
  const groups = new Map<string, Series>();
  for (const s of matched) {
    const key = s.labels[sum[1]];
    const g = groups.get(key) ?? { labels: { [sum[1]]: key }, value: 0, exemplars: [] };
    g.value += s.value;
    groups.set(key, g);
  }
  return [...groups.values()];
}

const field = (name: string, type: string, extra: Record<string, unknown> = {}) => ({ name, type, typeInfo: { frame: type === 'time' ? 'time.Time' : type === 'number' ? 'float64' : type === 'other' ? 'json.RawMessage' : 'string' }, ...extra });

function traceFrame(spans: ReceivedSpan[]) {
  const cols = ['traceID', 'spanID', 'parentSpanID', 'operationName', 'serviceName', 'serviceTags', 'startTime', 'duration', 'logs', 'references', 'tags'];
  return {
    schema: { name: 'Trace', refId: 'A', meta: { preferredVisualisationType: 'trace' }, fields: cols.map((c) => field(c, ['startTime', 'duration'].includes(c) ? 'number' : ['serviceTags', 'logs', 'references', 'tags'].includes(c) ? 'other' : 'string')) },
    data: {
      values: [
        spans.map((s) => s.traceId),
        spans.map((s) => s.spanId),
        spans.map((s) => s.parentSpanId),
        spans.map((s) => s.name),
        spans.map((s) => String(s.resource['service.name'])),
        spans.map((s) => Object.entries(s.resource).map(([key, value]) => ({ key, value }))),
        spans.map((s) => s.startMs),
        spans.map((s) => s.durationMs),
        spans.map(() => null),
        spans.map(() => null),
        spans.map((s) => Object.entries(s.attributes).map(([key, value]) => ({ key, value }))),
      ],
    },
  };
}

function logFrame(views: LogView[]) {
  const labelsOf = (v: LogView) => ({ ...v.labels, ...v.metadata });
  const typesOf = (v: LogView) => Object.fromEntries([...Object.keys(v.labels).map((k) => [k, 'I']), ...Object.keys(v.metadata).map((k) => [k, 'S'])]);
  return {
    schema: {
      refId: 'A',
      meta: { type: 'log-lines', typeVersion: [0, 0] },
      fields: [field('labels', 'other'), field('timestamp', 'time'), field('body', 'string'), field('id', 'string'), field('labelTypes', 'other', { config: { custom: { hidden: true } } })],
    },
    data: { values: [views.map(labelsOf), views.map((v) => Number(BigInt(v.tsNs) / 1_000_000n)), views.map((v) => v.line), views.map((v, i) => `${v.tsNs}_${i}`), views.map(typesOf)] },
  };
}

function seriesFrames(list: Series[], now: number) {
  return list.map((s) => ({
    schema: { refId: 'A', meta: { type: 'numeric-multi', typeVersion: [0, 1] }, fields: [field('Time', 'time'), field('Value', 'number', { labels: Object.fromEntries(Object.entries(s.labels).filter(([k]) => k !== '__name__')) })] },
    data: { values: [[now], [s.value]] },
  }));
}

function exemplarFrame(list: Series[]) {
  const rows = list.flatMap((s) => s.exemplars.map((e) => ({ ...s.labels, ...e.labels, Time: e.timestamp * 1000, Value: e.value })));
  if (!rows.length) return [];
  const names = [...new Set(rows.flatMap((r) => Object.keys(r)).filter((k) => k !== 'Time' && k !== 'Value'))];
  return [
    {
      schema: { name: 'exemplar', refId: 'A', fields: [field('Time', 'time'), field('Value', 'number'), ...names.map((n) => field(n, 'string'))] },
      data: { values: [rows.map((r) => r.Time), rows.map((r) => r.Value), ...names.map((n) => rows.map((r) => (r as Record<string, unknown>)[n] ?? ''))] },
    },
  ];
}

/** Datasources as Grafana holds them after provisioning: `$$` in the file is a literal `$`. */
function provisioned(repoRoot: string): Record<string, any>[] {
  const text = readFileSync(join(repoRoot, 'config/grafana/provisioning/datasources/datasources.yaml'), 'utf8');
  const doc = parse(text.replaceAll('$$', '\u0000').replace(/\$\{(\w+)\}/g, 'anonymous').replaceAll('\u0000', '$')) as { datasources: Record<string, any>[] };
  return doc.datasources.map((d, i) => ({
    id: i + 1,
    uid: d.uid,
    orgId: 1,
    name: d.name,
    type: d.type,
    typeLogoUrl: `public/plugins/${d.type}/img/logo.svg`,
    access: d.access ?? 'proxy',
    url: d.url,
    user: '',
    database: '',
    basicAuth: false,
    isDefault: Boolean(d.isDefault),
    jsonData: d.jsonData ?? {},
    secureJsonFields: Object.fromEntries(Object.keys(d.secureJsonData ?? {}).map((k) => [k, true])),
    version: 1,
    readOnly: true,
  }));
}

const HEALTH_OK: Record<string, string> = { prometheus: 'Successfully queried the Prometheus API.', tempo: 'Data source is working', loki: 'Data source successfully connected.' };

export async function startFakeLgtm(rx: OtlpReceiver, repoRoot: string, faults: FakeFaults = {}): Promise<FakeLgtm> {
  const datasources = provisioned(repoRoot).map((d) => (faults.datasourceJson?.[d.uid] ? { ...d, jsonData: faults.datasourceJson[d.uid](structuredClone(d.jsonData)) } : d));
  const dashboards = new Map<string, { uid: string; title: string }>();
  for (const f of readdirSync(join(repoRoot, 'dashboards')).filter((x) => x.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(repoRoot, 'dashboards', f), 'utf8'));
    dashboards.set(d.uid, d);
  }
  const requests: string[] = [];
  const json = (res: ServerResponse, status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const logsFor = (q: string) => (faults.emptyLoki ? [] : rx.logs.map(logView).filter((v) => logqlMatch(q, v)));

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://fake');
    const path = url.pathname;
    requests.push(`${req.method} ${path}`);
    const q = url.searchParams;

    // Readiness endpoints (the model's paths), answered as the components do.
    if (['/ready', '/-/ready', '/minio/health/ready', '/healthz'].includes(path)) return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');

    if (path === '/api/health') return json(res, 200, { commit: '5b85c4c2fc', database: 'ok', version: '13.2.0' });
    // Tempo's API shares the /api prefix; these faults are Grafana's.
    const grafanaApi = path.startsWith('/api/') && !path.startsWith('/api/v2/traces') && path !== '/api/search';
    if (grafanaApi && faults.grafanaStatus === 401) return json(res, 401, { extra: null, message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401, traceID: '' });
    if (grafanaApi && faults.grafanaStatus === 403)
      return json(res, 403, { accessErrorId: 'ACE0947587429', message: "You'll need additional permissions to perform this action. Permissions needed: datasources:read", title: 'Access denied' });

    let m = /^\/api\/datasources\/uid\/([^/]+)(\/health)?$/.exec(path);
    if (m) {
      const d = datasources.find((x) => x.uid === decodeURIComponent(m![1]));
      if (!d) return json(res, 404, { message: 'Data source not found' });
      if (!m[2]) return json(res, 200, d);
      if (faults.unhealthy?.includes(d.uid)) return json(res, 400, { status: 'ERROR', message: `Get "${d.url}/api/echo": dial tcp: lookup ${new URL(d.url).hostname}: no such host` });
      return json(res, 200, { status: 'OK', message: HEALTH_OK[d.type] ?? 'Data source is working' });
    }
    m = /^\/api\/dashboards\/uid\/([^/]+)$/.exec(path);
    if (m) {
      const d = dashboards.get(decodeURIComponent(m[1]));
      return d ? json(res, 200, { dashboard: d, meta: { type: 'db', folderTitle: 'MOP Sandbox', provisioned: true } }) : json(res, 404, { message: 'Dashboard not found' });
    }
    if (path === '/api/ds/query' && req.method === 'POST') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const query = body.queries[0];
      const d = datasources.find((x) => x.uid === query.datasource?.uid);
      if (!d) return json(res, 400, { message: `data source ${query.datasource?.uid} not found` });
      if (faults.unhealthy?.includes(d.uid)) return json(res, 400, { results: { A: { error: `${d.type}: connection refused`, errorSource: 'downstream', status: 500 } } });
      if (d.type === 'tempo') {
        const spans = faults.unknownTrace ? [] : rx.spans.filter((s) => s.traceId.replace(/^0+/, '') === String(query.query).toLowerCase().replace(/^0+/, ''));
        if (!spans.length) return json(res, 400, { results: { A: { error: `failed to get trace with id: ${query.query} Status: 404 Not Found Body: `, status: 404 } } });
        return json(res, 200, { results: { A: { status: 200, frames: [traceFrame(spans)] } } });
      }
      if (d.type === 'loki') return json(res, 200, { results: { A: { status: 200, frames: [logFrame(logsFor(query.expr))] } } });
      const all = seriesFrom(rx);
      const list = promql(query.expr, all);
      const frames = query.exemplar ? [...seriesFrames(list, Date.now()), ...exemplarFrame(list)] : seriesFrames(list, Date.now());
      return json(res, 200, { results: { A: { status: 200, frames } } });
    }

    m = /^\/api\/v2\/traces\/([0-9a-fA-F]+)$/.exec(path);
    if (m) {
      const spans = faults.unknownTrace ? [] : rx.spans.filter((s) => s.traceId === m![1].toLowerCase());
      return spans.length ? json(res, 200, traceByIdResponse(spans)) : void res.writeHead(404).end();
    }
    if (path === '/api/search') {
      const hits = new Map<string, ReceivedSpan>();
      if (!faults.unknownTrace) for (const s of rx.spans.filter((x) => traceqlMatch(q.get('q') ?? '', x))) hits.set(s.traceId, s);
      return json(res, 200, {
        traces: [...hits.values()].map((s) => ({ traceID: s.traceId.replace(/^0+/, ''), rootServiceName: String(s.resource['service.name']), rootTraceName: s.name, startTimeUnixNano: ns(s.startMs), durationMs: Math.round(s.durationMs), spanSets: [{ spans: [{ spanID: s.spanId, startTimeUnixNano: ns(s.startMs), durationNanos: ns(s.durationMs) }], matched: 1 }] })),
        metrics: { inspectedBytes: '4096', completedJobs: 1, totalJobs: 1 },
      });
    }
    if (path === '/loki/api/v1/query_range') {
      const views = logsFor(q.get('query') ?? '');
      // Without the categorize-labels flag Loki folds structured metadata into the stream labels (marshal_test.go queryTests).
      const categorize = String(req.headers['x-loki-response-encoding-flags'] ?? '').includes('categorize-labels');
      const streams = new Map<string, LogView[]>();
      for (const v of views) {
        const key = JSON.stringify(categorize ? v.labels : { ...v.labels, ...v.metadata });
        streams.set(key, [...(streams.get(key) ?? []), v]);
      }
      return json(res, 200, {
        status: 'success',
        data: {
          resultType: 'streams',
          ...(categorize ? { encodingFlags: ['categorize-labels'] } : {}),
          result: [...streams.entries()].map(([labels, list]) => ({
            stream: JSON.parse(labels),
            values: list.map((v) => (categorize ? [v.tsNs, v.line, { structuredMetadata: v.metadata }] : [v.tsNs, v.line])),
          })),
          stats: {},
        },
      });
    }
    if (path === '/prometheus/api/v1/query') {
      const list = promql(q.get('query') ?? '', seriesFrom(rx));
      return json(res, 200, { status: 'success', data: { resultType: 'vector', result: list.map((s) => ({ metric: s.labels, value: [Date.now() / 1000, String(s.value)] })) } });
    }
    if (path === '/prometheus/api/v1/query_exemplars') {
      const list = promql(q.get('query') ?? '', seriesFrom(rx)).filter((s) => s.exemplars.length);
      return json(res, 200, { status: 'success', data: list.map((s) => ({ seriesLabels: s.labels, exemplars: s.exemplars.map((e) => ({ ...e, value: String(e.value) })) })) });
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
