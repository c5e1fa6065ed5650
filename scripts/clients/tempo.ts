/**
 * Tempo's HTTP API (3.0.x), paths from grafana/tempo docs/sources/tempo/api_docs/_index.md@v3.0.3:
 * trace by id (`/api/v2/traces/<id>`, a TraceByIDResponse with an OTLP/JSON trace whose ids are base64, as
 * gogo/jsonpb writes bytes) and TraceQL search (`/api/search?q=`). A trace Tempo does not hold answers 404.
 */
import { HttpClient, describeAnswer } from './http.js';

export const tempoPaths = {
  ready: '/ready',
  traceById: (id: string) => `/api/v2/traces/${id}`,
  search: '/api/search',
} as const;

export interface TempoSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP kind name as Tempo writes it: SPAN_KIND_SERVER, SPAN_KIND_CLIENT, ... */
  kind: string;
  service: string;
  /** STATUS_CODE_ERROR, STATUS_CODE_OK, or '' when unset. */
  status: string;
  resource: Record<string, unknown>;
  attributes: Record<string, unknown>;
}

export type TraceLookup = { found: true; spans: TempoSpan[] } | { found: false; got: string };

export interface SearchHit {
  traceId: string;
  rootServiceName?: string;
  rootTraceName?: string;
}

/** OTLP/JSON ids from Tempo are base64 (jsonpb); OTLP/JSON from SDKs is hex. Both become lowercase hex. */
export function idToHex(id: unknown): string {
  const s = String(id ?? '');
  if (/^[0-9a-fA-F]+$/.test(s) && (s.length === 32 || s.length === 16)) return s.toLowerCase();
  return Buffer.from(s, 'base64').toString('hex');
}

/** Tempo's search answers print trace ids without leading zeros. */
export const sameTraceId = (a: string, b: string) => a.toLowerCase().replace(/^0+/, '') === b.toLowerCase().replace(/^0+/, '');

export function anyValue(v: any): unknown {
  if (!v || typeof v !== 'object') return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return v.boolValue;
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(anyValue);
  return undefined;
}

export function attributeMap(kvs: any[] | undefined): Record<string, unknown> {
  return Object.fromEntries((kvs ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
}

/** Flattens OTLP/JSON `resourceSpans` into spans. */
export function flattenTrace(trace: any): TempoSpan[] {
  const spans: TempoSpan[] = [];
  for (const rs of trace?.resourceSpans ?? trace?.batches ?? []) {
    const resource = attributeMap(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? rs.instrumentationLibrarySpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: idToHex(s.traceId),
          spanId: idToHex(s.spanId),
          parentSpanId: s.parentSpanId ? idToHex(s.parentSpanId) : '',
          name: s.name ?? '',
          kind: typeof s.kind === 'string' ? s.kind : `SPAN_KIND_${['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'][s.kind ?? 0]}`,
          service: String(resource['service.name'] ?? ''),
          status: typeof s.status?.code === 'string' ? s.status.code : s.status?.code === 2 ? 'STATUS_CODE_ERROR' : s.status?.code === 1 ? 'STATUS_CODE_OK' : '',
          resource,
          attributes: attributeMap(s.attributes),
        });
      }
    }
  }
  return spans;
}

export class TempoClient {
  constructor(readonly http: HttpClient) {}

  async traceById(traceId: string): Promise<TraceLookup> {
    const a = await this.http.request(tempoPaths.traceById(traceId));
    if (a.status === 200 && a.json) {
      const spans = flattenTrace(a.json.trace ?? a.json);
      if (spans.length) return { found: true, spans };
      return { found: false, got: 'HTTP 200 with an empty trace' };
    }
    return { found: false, got: a.status === 404 ? 'HTTP 404 (trace not found)' : describeAnswer(a) };
  }

  /** TraceQL search; `start`/`end` in epoch seconds (omit both for Tempo's default recent window). */
  async search(q: string, range?: { start: number; end: number }): Promise<{ ok: true; hits: SearchHit[] } | { ok: false; got: string }> {
    const a = await this.http.request(tempoPaths.search, { query: { q, limit: 20, ...(range ?? {}) } });
    if (a.status !== 200 || !a.json) return { ok: false, got: describeAnswer(a) };
    const hits = (a.json.traces ?? []).map((t: any) => ({ traceId: String(t.traceID ?? ''), rootServiceName: t.rootServiceName, rootTraceName: t.rootTraceName }));
    return { ok: true, hits };
  }
}
