/** What verify does with Grafana's correlation settings, read from the provisioning file the way Grafana holds them. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { deriveLinks, parseShift, traceToLogsQuery, type DerivedField, type TracesToLogs } from '../../scripts/verify/correlation.js';

const file = readFileSync(join(import.meta.dirname, '../../config/grafana/provisioning/datasources/datasources.yaml'), 'utf8');
// Grafana expands $NAME in provisioning files and turns $$ into a literal $.
const held = parse(file.replaceAll('$$', '$')) as { datasources: { uid: string; type: string; jsonData: Record<string, any> }[] };
const jsonData = (type: string) => held.datasources.find((d) => d.type === type)!.jsonData;

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const span = { traceId, spanId: '00f067aa0ba902b7', name: 'charge card', startMs: 1_000_000, endMs: 1_005_000, attributes: { 'service.name': 'mop-verify-server', 'service.namespace': 'mop-verify' } };

describe('trace → logs', () => {
  it('our Tempo datasource filters on the trace_id structured metadata, over the span ±2m', () => {
    const q = traceToLogsQuery(jsonData('tempo').tracesToLogsV2, span);
    expect(q).toEqual({ ok: true, expr: `{service_name="mop-verify-server"} | trace_id = "${traceId}"`, fromMs: 1_000_000 - 120_000, toMs: 1_005_000 + 120_000 });
  });

  it("Grafana's non-custom query is a line filter per id; no configured tag on the span means no link", () => {
    const s: TracesToLogs = { datasourceUid: 'loki', filterByTraceID: true, filterBySpanID: true, tags: [{ key: 'service.name', value: 'service_name' }] };
    expect(traceToLogsQuery(s, span)).toMatchObject({ expr: `{service_name="mop-verify-server"} |="${traceId}" |="00f067aa0ba902b7"` });
    expect(traceToLogsQuery({ datasourceUid: 'loki', tags: [{ key: 'k8s.pod.name' }] }, span)).toMatchObject({ ok: false, why: expect.stringContaining('no logs link') });
    expect(traceToLogsQuery({}, span)).toMatchObject({ ok: false });
    // Without tags Grafana's defaults apply (service.name → service_name, service.namespace → service_namespace).
    expect(traceToLogsQuery({ datasourceUid: 'loki' }, span)).toMatchObject({ expr: '{service_name="mop-verify-server", service_namespace="mop-verify"}' });
  });

  it('parses time shifts', () => {
    expect([parseShift('-2m'), parseShift('2s'), parseShift('500ms'), parseShift('1h'), parseShift(undefined)]).toEqual([-120_000, 2_000, 500, 3_600_000, 0]);
  });
});

describe('logs → trace', () => {
  const fields = jsonData('loki').derivedFields as DerivedField[];

  it('the label derived field reads trace_id from structured metadata and links to Tempo', () => {
    expect(deriveLinks(fields, { labels: { trace_id: traceId, service_name: 'x' }, line: 'verify abc: charge card failed' })).toEqual([{ field: 'trace_id', datasourceUid: 'tempo', query: traceId }]);
  });

  it('the regex derived field finds trace ids in logfmt and JSON lines', () => {
    expect(deriveLinks(fields, { labels: {}, line: `level=info traceID=${traceId} msg=ok` })).toEqual([{ field: 'TraceID', datasourceUid: 'tempo', query: traceId }]);
    expect(deriveLinks(fields, { labels: {}, line: `{"traceId":"${traceId}"}` })[0]?.query).toBe(traceId);
    expect(deriveLinks(fields, { labels: {}, line: 'no id here' })).toEqual([]);
  });
});
