/**
 * Mimir's Prometheus-compatible query API under `/prometheus` (grafana/mimir docs/sources/mimir/references/http-api
 * "Querier": `<prometheus-http-prefix>/api/v1/query`, `/api/v1/query_exemplars`). Answers follow the Prometheus HTTP
 * API (prometheus/prometheus docs/querying/api.md "Instant queries", "Querying exemplars").
 */
import { HttpClient, describeAnswer } from './http.js';

export const PROMETHEUS_PREFIX = '/prometheus';
export const mimirPaths = {
  ready: '/ready',
  query: `${PROMETHEUS_PREFIX}/api/v1/query`,
  queryExemplars: `${PROMETHEUS_PREFIX}/api/v1/query_exemplars`,
} as const;

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: { labels: Record<string, string>; value: number; timestamp: number }[];
}

export class MimirClient {
  constructor(readonly http: HttpClient) {}

  /** An instant query; `time` in epoch seconds (default: now on the server). */
  async query(expr: string, time?: number): Promise<{ ok: true; samples: Sample[] } | { ok: false; got: string }> {
    const a = await this.http.request(mimirPaths.query, { query: { query: expr, time } });
    if (a.status !== 200 || a.json?.status !== 'success') return { ok: false, got: describeAnswer(a) };
    const result = a.json.data?.result ?? [];
    return { ok: true, samples: result.map((r: any) => ({ metric: r.metric ?? {}, value: Number(r.value?.[1]) })) };
  }

  /** Exemplars of the series a selector matches over [start, end] (epoch seconds). */
  async exemplars(expr: string, start: number, end: number): Promise<{ ok: true; series: ExemplarSeries[] } | { ok: false; got: string }> {
    const a = await this.http.request(mimirPaths.queryExemplars, { query: { query: expr, start, end } });
    if (a.status !== 200 || a.json?.status !== 'success') return { ok: false, got: describeAnswer(a) };
    const series = (a.json.data ?? []).map((s: any) => ({
      seriesLabels: s.seriesLabels ?? {},
      exemplars: (s.exemplars ?? []).map((e: any) => ({ labels: e.labels ?? {}, value: Number(e.value), timestamp: Number(e.timestamp) })),
    }));
    return { ok: true, series };
  }
}
