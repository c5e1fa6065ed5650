/**
 * The backend clients against fixtures copied in shape from the pinned versions' documented responses (each names
 * its source), through an injected fetch that records the request, plus a refused connection on a real socket.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlloyClient, alloyPaths } from '../../scripts/clients/alloy.js';
import { GrafanaClient, framesToRows } from '../../scripts/clients/grafana.js';
import { HttpClient, type FetchLike } from '../../scripts/clients/http.js';
import { LokiClient } from '../../scripts/clients/loki.js';
import { MimirClient } from '../../scripts/clients/mimir.js';
import { TempoClient } from '../../scripts/clients/tempo.js';

function fixture(status: number, body: unknown, contentType = 'application/json') {
  const seen: { url: string; init?: RequestInit }[] = [];
  const fetch: FetchLike = async (url, init) => {
    seen.push({ url: String(url), init });
    return new Response(body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'content-type': contentType } });
  };
  return { http: new HttpClient({ baseUrl: 'http://127.0.0.1:1', fetch }), seen };
}

describe('Tempo client (3.0.3)', () => {
  // grafana/tempo pkg/tempopb/tempo.proto@v3.0.3 TraceByIDResponse, written by gogo/jsonpb: ids base64, enums by name
  // (span shape from cmd/tempo-vulture/testdata/trace.json).
  const traceById = {
    trace: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'shop-backend' } }] },
          scopeSpans: [
            {
              scope: { name: 'app' },
              spans: [
                { traceId: 'MUkZX/sL7AU0e0jv6OzBsA==', spanId: 'SyPeJdH7ZkE=', name: 'update-billing', kind: 'SPAN_KIND_SERVER', startTimeUnixNano: '1636729665000000000', endTimeUnixNano: '1636729665000092000', status: { code: 'STATUS_CODE_ERROR' } },
              ],
            },
          ],
        },
      ],
    },
  };

  it('reads a trace by id: base64 ids become hex, kind and status names kept', async () => {
    const { http, seen } = fixture(200, traceById);
    const r = await new TempoClient(http).traceById('3149195ffb0bec05347b48efe8ecc1b0');
    expect(seen[0].url).toBe('http://127.0.0.1:1/api/v2/traces/3149195ffb0bec05347b48efe8ecc1b0');
    expect(r).toEqual({ found: true, spans: [expect.objectContaining({ traceId: '3149195ffb0bec05347b48efe8ecc1b0', spanId: '4b23de25d1fb6641', kind: 'SPAN_KIND_SERVER', status: 'STATUS_CODE_ERROR', service: 'shop-backend' })] });
  });

  it('an unknown trace is a 404 (modules/frontend/combiner/common.go)', async () => {
    expect(await new TempoClient(fixture(404, '').http).traceById('00')).toEqual({ found: false, got: 'HTTP 404 (trace not found)' });
  });

  it('TraceQL search (docs/sources/tempo/api_docs/_index.md "Example of TraceQL search")', async () => {
    const { http, seen } = fixture(200, { traces: [{ traceID: '2f3e0cee77ae5dc9c17ade3689eb2e54', rootServiceName: 'shop-backend', rootTraceName: 'update-billing', startTimeUnixNano: '1684778327699392724', durationMs: 557, spanSets: [{ spans: [{ spanID: '563d623c76514f8e', startTimeUnixNano: '1684778327735077898', durationNanos: '446979497', attributes: [{ key: 'status', value: { stringValue: 'error' } }] }], matched: 1 }] }], metrics: { totalBlocks: 13 } });
    const r = await new TempoClient(http).search('{ status=error }');
    expect(new URL(seen[0].url).searchParams.get('q')).toBe('{ status=error }');
    expect(r).toEqual({ ok: true, hits: [{ traceId: '2f3e0cee77ae5dc9c17ade3689eb2e54', rootServiceName: 'shop-backend', rootTraceName: 'update-billing' }] });
  });
});

describe('Loki client (3.7.6)', () => {
  it('asks for categorized labels and reads structured metadata (pkg/util/marshal/marshal_test.go queryTestWithEncodingFlags)', async () => {
    const { http, seen } = fixture(200, {
      status: 'success',
      warnings: ['this is a warning'],
      data: {
        resultType: 'streams',
        encodingFlags: ['categorize-labels'],
        result: [{ stream: { test: 'test' }, values: [['123456789012345', 'super line', {}], ['123456789012346', 'super line with labels', { structuredMetadata: { foo: 'a', bar: 'b' } }]] }],
        stats: {},
      },
    });
    const r = await new LokiClient(http).queryRange('{test="test"}', 1000, 2000);
    expect((seen[0].init?.headers as Record<string, string>)['X-Loki-Response-Encoding-Flags']).toBe('categorize-labels');
    expect(new URL(seen[0].url).searchParams.get('start')).toBe('1000000000');
    expect(r).toEqual({ ok: true, entries: [expect.objectContaining({ line: 'super line', structuredMetadata: {} }), expect.objectContaining({ ts: '123456789012346', structuredMetadata: { foo: 'a', bar: 'b' } })] });
  });

  it('an error answer is reported with its body (docs/sources/reference/loki-http-api.md: 400 with a text message)', async () => {
    const r = await new LokiClient(fixture(400, 'parse error at line 1, col 1: syntax error: unexpected IDENTIFIER', 'text/plain').http).queryRange('x', 0, 1);
    expect(r).toEqual({ ok: false, got: 'HTTP 400: parse error at line 1, col 1: syntax error: unexpected IDENTIFIER' });
  });
});

describe('Mimir client (3.0.2, Prometheus HTTP API under /prometheus)', () => {
  it('instant query (prometheus docs/querying/api.md "Instant queries")', async () => {
    const { http, seen } = fixture(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' }, value: [1435781451.781, '1'] }] } });
    const r = await new MimirClient(http).query('up');
    expect(new URL(seen[0].url).pathname).toBe('/prometheus/api/v1/query');
    expect(r).toEqual({ ok: true, samples: [{ metric: { __name__: 'up', job: 'prometheus', instance: 'localhost:9090' }, value: 1 }] });
  });

  it('exemplars (prometheus docs/querying/api.md "Querying exemplars")', async () => {
    const { http, seen } = fixture(200, {
      status: 'success',
      data: [{ seriesLabels: { __name__: 'test_exemplar_metric_total', instance: 'localhost:8090', job: 'prometheus', service: 'bar' }, exemplars: [{ labels: { trace_id: 'EpTxMJ40fUus7aGY' }, value: '6', timestamp: 1600096945.479 }] }],
    });
    const r = await new MimirClient(http).exemplars('test_exemplar_metric_total', 1600096900, 1600097000);
    expect(new URL(seen[0].url).pathname).toBe('/prometheus/api/v1/query_exemplars');
    expect(r).toEqual({ ok: true, series: [{ seriesLabels: expect.objectContaining({ service: 'bar' }), exemplars: [{ labels: { trace_id: 'EpTxMJ40fUus7aGY' }, value: 6, timestamp: 1600096945.479 }] }] });
  });
});

describe('Grafana client (13.2.0)', () => {
  it('health (docs/sources/developers/http_api/other.md "Returns health information about Grafana")', async () => {
    expect(await new GrafanaClient(fixture(200, { commit: '087143285', database: 'ok', version: '13.2.0' }).http).health()).toEqual({ ok: true, version: '13.2.0', database: 'ok' });
  });

  it('401 and 403 say what Grafana said', async () => {
    const g401 = await new GrafanaClient(fixture(401, { extra: null, message: 'Invalid username or password', messageId: 'password-auth.failed', statusCode: 401, traceID: '' }).http).datasource('tempo');
    expect(g401).toEqual({ ok: false, status: 401, got: 'HTTP 401 (Invalid username or password): the admin password was not accepted' });
    const g403 = await new GrafanaClient(fixture(403, { accessErrorId: 'ACE0947587429', message: "You'll need additional permissions to perform this action. Permissions needed: datasources:query", title: 'Access denied' }).http).datasourceHealth('tempo');
    expect(g403).toMatchObject({ ok: false, status: 403, got: expect.stringContaining('Permissions needed: datasources:query') });
  });

  it('datasource health: 400 {status: ERROR} is the datasource failing, with its message (pkg/api/plugin_resource.go)', async () => {
    const r = await new GrafanaClient(fixture(400, { status: 'ERROR', message: 'Get "http://tempo:3200/api/echo": dial tcp: lookup tempo: no such host' }).http).datasourceHealth('tempo');
    expect(r).toEqual({ ok: false, status: 400, got: 'ERROR: Get "http://tempo:3200/api/echo": dial tcp: lookup tempo: no such host' });
  });

  it('data frames: columns become rows, field labels are kept (pkg/promlib/querydata/exemplar/testdata/noop_sampler.jsonc)', () => {
    const [f] = framesToRows([
      { schema: { name: 'exemplar', fields: [{ name: 'Time', type: 'time' }, { name: 'Value', type: 'number' }, { name: 'trace_id', type: 'string' }] }, data: { values: [[0, 1000], [0, 1], ['a', 'b']] } },
    ]);
    expect(f).toEqual({ name: 'exemplar', fields: ['Time', 'Value', 'trace_id'], labels: {}, rows: [{ Time: 0, Value: 0, trace_id: 'a' }, { Time: 1000, Value: 1, trace_id: 'b' }] });
  });

  it('a query error in results.A.error is reported, whatever the HTTP status', async () => {
    const r = await new GrafanaClient(fixture(400, { results: { A: { error: 'failed to get trace with id: abc Status: 404 Not Found Body: ', status: 404 } } }).http).query({ uid: 'tempo' }, { queryType: 'traceId', query: 'abc' }, 0, 1);
    expect(r).toEqual({ ok: false, status: 400, got: 'HTTP 400: failed to get trace with id: abc Status: 404 Not Found Body: ' });
  });
});

describe('HTTP client', () => {
  it('a port nobody listens on is "connection refused", not an exception', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((r) => srv.close(() => r()));
    const a = await new HttpClient({ baseUrl: `http://127.0.0.1:${port}` }).request('/ready');
    expect(a).toEqual({ status: 0, text: '', error: 'connection refused' });
  });
});

describe('Alloy client (1.18.1): is container-log collection working?', () => {
  // Fixtures in test/support/alloy-api/, each naming its source in grafana/alloy@v1.18.1 (the stand-in Alloy serves the same files).
  const api = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, '..', 'support', 'alloy-api', `${name}.json`), 'utf8')).body;
  function alloy(routes: Record<string, unknown>) {
    const seen: string[] = [];
    const fetch: FetchLike = async (url) => {
      const path = new URL(String(url)).pathname;
      seen.push(path);
      const body = routes[path];
      return body === undefined ? new Response('404 page not found\n', { status: 404, headers: { 'content-type': 'text/plain' } }) : new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    return { client: new AlloyClient(new HttpClient({ baseUrl: 'http://127.0.0.1:1', fetch })), seen };
  }
  const healthy = () => ({
    [alloyPaths.components]: api('components'),
    [alloyPaths.component('discovery.docker.containers')]: api('discovery-docker'),
    [alloyPaths.component('loki.source.docker.containers')]: api('loki-source-docker'),
  });

  it('healthy components, containers found, tailers without errors: working', async () => {
    const { client, seen } = alloy(healthy());
    expect(await client.dockerLogCollection()).toEqual({ ok: true, detail: 'discovery.docker.containers, loki.source.docker.containers healthy' });
    expect(seen).toEqual(['/api/v0/web/components', '/api/v0/web/components/discovery.docker.containers', '/api/v0/web/components/loki.source.docker.containers']);
  });

  it('discovery that finds nothing while "healthy" (the silent failure) is not working', async () => {
    const { client } = alloy({ ...healthy(), [alloyPaths.component('discovery.docker.containers')]: api('discovery-docker-empty') });
    expect(await client.dockerLogCollection()).toMatchObject({ ok: false, detail: expect.stringContaining('finds no containers') });
  });

  it('an unhealthy or exited component is named with its message', async () => {
    const list = api('components').map((c: any) => (c.name === 'loki.source.docker' ? { ...c, health: { ...c.health, state: 'exited', message: 'component shut down with error: permission denied' } } : c));
    const { client } = alloy({ ...healthy(), [alloyPaths.components]: list });
    expect(await client.dockerLogCollection()).toEqual({ ok: false, detail: 'loki.source.docker.containers is exited (component shut down with error: permission denied)' });
  });

  it('a tailer with an error is reported', async () => {
    const source = api('loki-source-docker');
    source.debugInfo[0].body.find((a: any) => a.name === 'last_error').value.value = 'Error response from daemon: permission denied';
    const { client } = alloy({ ...healthy(), [alloyPaths.component('loki.source.docker.containers')]: source });
    expect(await client.dockerLogCollection()).toMatchObject({ ok: false, detail: expect.stringContaining('cannot read 1 container log(s): Error response from daemon: permission denied') });
  });

  it('no docker log components (rendered without the socket), or an API that is not Alloy\'s: not working, and says which', async () => {
    const none = alloy({ [alloyPaths.components]: api('components').filter((c: any) => !c.name.includes('docker')) });
    expect(await none.client.dockerLogCollection()).toMatchObject({ ok: false, detail: expect.stringContaining('without container-log collection') });
    const other = alloy({});
    expect(await other.client.dockerLogCollection()).toMatchObject({ ok: false, detail: expect.stringContaining('HTTP 404') });
  });
});
