/**
 * End to end on the real images: `up` on docker compose, real telemetry through Alloy into Tempo, Mimir and Loki,
 * Grafana's provisioned datasources, then `down --purge`. Needs a Docker engine with compose v2 and registry access;
 * anywhere else it skips with one line saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { images, imageRef } from '../../scripts/stack/versions.js';

const root = resolve(import.meta.dirname, '../..');
const cli = join(root, 'dist/scripts/cli.js');

function whyNot(): string | undefined {
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) return 'no Docker engine is reachable';
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status !== 0) return 'docker compose v2 is not installed';
  const probe = imageRef(images.grafana);
  const present = spawnSync('docker', ['image', 'inspect', probe], { stdio: 'ignore' }).status === 0;
  if (!present && spawnSync('docker', ['pull', '-q', probe], { stdio: 'ignore', timeout: 120_000 }).status !== 0) {
    return `cannot pull ${probe} (no registry access)`;
  }
  return undefined;
}

const reason = whyNot();
if (reason) console.log(`skipping compose e2e: ${reason}`);

const env = {
  ...process.env,
  MOP_STATE_DIR: mkdtempSync(join(tmpdir(), 'mop-e2e-')),
  MOP_PROJECT: `mop-e2e-${process.pid}`,
  CI: '1',
};
const run = (args: string[]) => spawnSync('node', [cli, ...args], { env, encoding: 'utf8', timeout: 900_000 });
const json = (args: string[]) => JSON.parse(run([...args, '--json']).stdout);

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${what}: not found within ${timeoutMs / 1000}s${last ? ` (${last})` : ''}`);
}

describe.skipIf(Boolean(reason))('compose e2e with the real images', () => {
  let traceId = '';
  afterAll(() => {
    run(['down', '--purge']);
  });

  it('comes up, routes every signal to its backend, and wires Grafana', async () => {
    const up = run(['up', '--runtime', 'compose', '--no-open']);
    expect(up.status, up.stderr + up.stdout).toBe(0);
    const status = json(['status']);
    expect(status.ok).toBe(true);

    const creds = json(['credentials']).credentials;
    traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const now = BigInt(Date.now()) * 1_000_000n;
    const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'mop-e2e' } }] };
    const post = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:4318${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/v1/traces', { resourceSpans: [{ resource, scopeSpans: [{ spans: [{ traceId, spanId, name: 'e2e', kind: 2, startTimeUnixNano: String(now - 5_000_000n), endTimeUnixNano: String(now) }] }] }] })).ok).toBe(true);
    expect((await post('/v1/logs', { resourceLogs: [{ resource, scopeLogs: [{ logRecords: [{ timeUnixNano: String(now), body: { stringValue: 'e2e log' }, traceId, spanId }] }] }] })).ok).toBe(true);
    expect((await post('/v1/metrics', { resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'mop.e2e', sum: { isMonotonic: true, aggregationTemporality: 2, dataPoints: [{ asInt: '1', timeUnixNano: String(now) }] } }] }] }] })).ok).toBe(true);

    await poll('trace in Tempo', async () => ((await fetch(`http://127.0.0.1:3200/api/v2/traces/${traceId}`)).ok ? true : undefined));
    await poll('metric in Mimir', async () => {
      const r = await (await fetch('http://127.0.0.1:8080/prometheus/api/v1/query?query=mop_e2e_total')).json();
      return r.data?.result?.length ? true : undefined;
    });
    await poll('log in Loki', async () => {
      const q = new URLSearchParams({ query: `{service_name="mop-e2e"} | trace_id="${traceId}"`, since: '10m' });
      const r = await (await fetch(`http://127.0.0.1:3100/loki/api/v1/query_range?${q}`)).json();
      return r.data?.result?.length ? true : undefined;
    });
    const auth = { authorization: `Basic ${Buffer.from(`admin:${creds.GRAFANA_ADMIN_PASSWORD}`).toString('base64')}` };
    for (const uid of ['mimir', 'tempo', 'loki']) {
      const health = await fetch(`http://127.0.0.1:3000/api/datasources/uid/${uid}/health`, { headers: auth });
      expect(health.status, `datasource ${uid}`).toBe(200);
    }
    const search = await (await fetch('http://127.0.0.1:3000/api/search?tag=mop-sandbox', { headers: auth })).json();
    expect(search.length).toBeGreaterThanOrEqual(6);
  });

  it('keeps data across down and up, and removes it with --purge', async () => {
    expect(run(['down']).status).toBe(0);
    expect(run(['up', '--runtime', 'compose', '--no-open']).status).toBe(0);
    await poll('trace in Tempo after down and up', async () => ((await fetch(`http://127.0.0.1:3200/api/v2/traces/${traceId}`)).ok ? true : undefined));
    expect(run(['down', '--purge']).status).toBe(0);
    const left = execFileSync('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${env.MOP_PROJECT}`], { encoding: 'utf8' });
    expect(left.trim()).toBe('');
  });
});
