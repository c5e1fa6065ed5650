/**
 * Sends OTLP/HTTP protobuf the way SDK exporters do: POST <endpoint>/v1/<signal>, content type
 * application/x-protobuf (opentelemetry-specification otlp.md "OTLP/HTTP"). A 2xx is accepted; anything else is
 * returned as the collector's answer so the caller can say what came back.
 */
import { HttpClient, describeAnswer } from '../clients/http.js';
import { encodeLogs, encodeMetrics, encodeTraces } from './encode.js';
import type { VerifyTelemetry } from './verify-telemetry.js';

export type Signal = 'traces' | 'logs' | 'metrics';
export const otlpPaths: Record<Signal, string> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };

const encoders: Record<Signal, (t: VerifyTelemetry) => Uint8Array> = { traces: encodeTraces, logs: encodeLogs, metrics: encodeMetrics };

export async function sendSignal(http: HttpClient, signal: Signal, telemetry: VerifyTelemetry): Promise<{ ok: true; bytes: number } | { ok: false; got: string }> {
  const body = encoders[signal](telemetry);
  const a = await http.request(otlpPaths[signal], { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', accept: '*/*' } });
  if (a.status >= 200 && a.status < 300) return { ok: true, bytes: body.length };
  return { ok: false, got: describeAnswer(a) };
}
