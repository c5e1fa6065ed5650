/**
 * Loki's query API (3.7.x): `/loki/api/v1/query_range`, asked with `X-Loki-Response-Encoding-Flags:
 * categorize-labels` so each entry says which labels are structured metadata (shape from grafana/loki
 * pkg/util/marshal/marshal_test.go@v3.7.6 `queryTestWithEncodingFlags`, header from pkg/util/httpreq/encoding_flags.go).
 */
import { HttpClient, describeAnswer } from './http.js';

export const lokiPaths = {
  ready: '/ready',
  queryRange: '/loki/api/v1/query_range',
} as const;

export const CATEGORIZE_LABELS = { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } as const;

export interface LokiEntry {
  stream: Record<string, string>;
  /** Nanoseconds since the epoch, as Loki writes it. */
  ts: string;
  line: string;
  structuredMetadata: Record<string, string>;
  parsed: Record<string, string>;
}

export type LokiResult = { ok: true; entries: LokiEntry[] } | { ok: false; got: string };

export class LokiClient {
  constructor(readonly http: HttpClient) {}

  /** A log query over [startMs, endMs]. */
  async queryRange(query: string, startMs: number, endMs: number, limit = 100): Promise<LokiResult> {
    const a = await this.http.request(lokiPaths.queryRange, {
      query: { query, start: `${startMs}000000`, end: `${endMs}000000`, limit, direction: 'backward' },
      headers: CATEGORIZE_LABELS,
    });
    if (a.status !== 200 || a.json?.status !== 'success') return { ok: false, got: describeAnswer(a) };
    const entries: LokiEntry[] = [];
    for (const r of a.json.data?.result ?? []) {
      for (const v of r.values ?? []) {
        entries.push({
          stream: r.stream ?? {},
          ts: String(v[0]),
          line: String(v[1]),
          structuredMetadata: v[2]?.structuredMetadata ?? {},
          parsed: v[2]?.parsed ?? {},
        });
      }
    }
    return { ok: true, entries };
  }
}
