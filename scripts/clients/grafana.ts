/**
 * Grafana's HTTP API (13.x), as documented in grafana/grafana docs/sources/developers/http_api/
 * (data_source.md, dashboard.md, other.md "Health API", query "POST /api/ds/query"). Datasources are addressed by
 * uid only: Grafana 13 turns the numeric-id APIs off. `/api/ds/query` answers with data frames
 * (`results.<refId>.frames[].schema.fields` + `data.values`, columns), or `results.<refId>.error`.
 */
import { HttpClient, describeAnswer, type HttpAnswer } from './http.js';

export const grafanaPaths = {
  health: '/api/health',
  datasource: (uid: string) => `/api/datasources/uid/${encodeURIComponent(uid)}`,
  datasourceHealth: (uid: string) => `/api/datasources/uid/${encodeURIComponent(uid)}/health`,
  dashboard: (uid: string) => `/api/dashboards/uid/${encodeURIComponent(uid)}`,
  query: '/api/ds/query',
  explore: '/explore',
} as const;

export interface Datasource {
  uid: string;
  name: string;
  type: string;
  url?: string;
  jsonData: Record<string, any>;
}

/** One data frame as rows of named fields (columns turned into records). */
export interface Frame {
  name?: string;
  fields: string[];
  /** Labels on the frame's fields (a Prometheus series keeps its labels there). */
  labels: Record<string, string>;
  rows: Record<string, unknown>[];
}

export type Got<T> = ({ ok: true } & T) | { ok: false; got: string; status: number };

/** Grafana's access errors say what is missing; turn them into one line. */
function grafanaGot(a: HttpAnswer): string {
  if (a.status === 401) return `HTTP 401 (${a.json?.message ?? 'unauthorized'}): the admin password was not accepted`;
  if (a.status === 403) return `HTTP 403 (${a.json?.message ?? 'access denied'})`;
  return describeAnswer(a);
}

/** Data frames from Grafana's frame JSON (grafana-plugin-sdk-go data/frame_json.go): columns in data.values. */
export function framesToRows(frames: any[] | undefined): Frame[] {
  return (frames ?? []).map((f) => {
    const fields: string[] = (f.schema?.fields ?? []).map((x: any) => String(x.name));
    const values: unknown[][] = f.data?.values ?? [];
    const n = Math.max(0, ...values.map((v) => (Array.isArray(v) ? v.length : 0)));
    const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(fields.map((name, j) => [name, values[j]?.[i]])));
    const labels = Object.assign({}, ...(f.schema?.fields ?? []).map((x: any) => x.labels ?? {}));
    return { name: f.schema?.name, fields, labels, rows };
  });
}

export class GrafanaClient {
  constructor(readonly http: HttpClient) {}

  async health(): Promise<Got<{ version: string; database: string }>> {
    const a = await this.http.request(grafanaPaths.health);
    if (a.status !== 200 || !a.json) return { ok: false, got: grafanaGot(a), status: a.status };
    if (a.json.database !== 'ok') return { ok: false, got: `database "${a.json.database}"`, status: a.status };
    return { ok: true, version: String(a.json.version ?? '?'), database: a.json.database };
  }

  async datasource(uid: string): Promise<Got<{ datasource: Datasource }>> {
    const a = await this.http.request(grafanaPaths.datasource(uid));
    if (a.status !== 200 || !a.json?.uid) return { ok: false, got: a.status === 404 ? `HTTP 404: no datasource with uid "${uid}"` : grafanaGot(a), status: a.status };
    const j = a.json;
    return { ok: true, datasource: { uid: j.uid, name: j.name, type: j.type, url: j.url, jsonData: j.jsonData ?? {} } };
  }

  /** The datasource's own health check (what "Save & test" runs): 200 {status: OK} or 400 {status: ERROR, message}. */
  async datasourceHealth(uid: string): Promise<Got<{ message: string }>> {
    const a = await this.http.request(grafanaPaths.datasourceHealth(uid), { timeoutMs: 15_000 });
    if (a.status === 200 && a.json?.status === 'OK') return { ok: true, message: String(a.json.message ?? '') };
    if (a.json?.status && a.json.status !== 'OK') return { ok: false, got: `${a.json.status}: ${a.json.message ?? ''}`.trim(), status: a.status };
    return { ok: false, got: grafanaGot(a), status: a.status };
  }

  async dashboard(uid: string): Promise<Got<{ title: string; folder?: string }>> {
    const a = await this.http.request(grafanaPaths.dashboard(uid));
    if (a.status !== 200 || !a.json?.dashboard) return { ok: false, got: a.status === 404 ? 'HTTP 404 (dashboard not found)' : grafanaGot(a), status: a.status };
    return { ok: true, title: String(a.json.dashboard.title ?? ''), folder: a.json.meta?.folderTitle };
  }

  /** Runs one query through a datasource, as a panel or Explore does; times in epoch ms. */
  async query(datasource: { uid: string; type?: string }, query: Record<string, unknown>, fromMs: number, toMs: number): Promise<Got<{ frames: Frame[] }>> {
    const body = { from: String(fromMs), to: String(toMs), queries: [{ refId: 'A', datasource, ...query }] };
    const a = await this.http.request(grafanaPaths.query, { body, timeoutMs: 15_000 });
    const result = a.json?.results?.A;
    if (result?.error) return { ok: false, got: `HTTP ${a.status}: ${result.error}`, status: a.status };
    if (a.status !== 200 || !result) return { ok: false, got: grafanaGot(a), status: a.status };
    return { ok: true, frames: framesToRows(result.frames) };
  }

  /** An Explore link a person opens (Grafana 13's `panes` URL state), on `base` (default: this client's URL). */
  exploreUrl(datasourceUid: string, query: Record<string, unknown>, base?: string, range: { from: string; to: string } = { from: 'now-1h', to: 'now' }): string {
    const panes = { v: { datasource: datasourceUid, queries: [{ refId: 'A', datasource: { uid: datasourceUid }, ...query }], range } };
    const u = new URL(grafanaPaths.explore, base ?? this.http.baseUrl);
    for (const [k, v] of Object.entries({ schemaVersion: '1', panes: JSON.stringify(panes), orgId: '1' })) u.searchParams.set(k, v);
    return u.toString();
  }
}
