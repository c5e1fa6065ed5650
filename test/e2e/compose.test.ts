/**
 * End to end on the real images: `up` on docker compose, `verify` (telemetry through Alloy into Tempo, Mimir and Loki,
 * Grafana's datasources and dashboards, every correlation), data kept across `down`/`up`, then `down --purge`. Needs a Docker engine with compose v2 and registry access;
 * anywhere else it skips with one line saying why.
 */
import { execFileSync, spawnSync } from 'node:child_process';
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

  it('comes up, and verify proves every signal, datasource, dashboard and correlation', async () => {
    const up = run(['up', '--runtime', 'compose', '--no-open']);
    expect(up.status, up.stderr + up.stdout).toBe(0);
    const status = json(['status']);
    expect(status.ok).toBe(true);

    const verify = run(['verify', '--json']);
    const doc = JSON.parse(verify.stdout);
    const failed = doc.verify.checks.filter((c: { status: string }) => c.status !== 'pass');
    expect(failed, JSON.stringify(failed, null, 2)).toEqual([]);
    expect(verify.status).toBe(0);
    expect(doc.verify.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['tempo.trace', 'loki.logs', 'mimir.exemplar', 'correlation.trace-to-logs', 'correlation.logs-to-trace', 'correlation.exemplar-to-trace', 'correlation.service-graph']));
    console.log(`verify on compose: ${doc.verify.seconds.toFixed(1)}s, slowest wait ${JSON.stringify(doc.verify.dominantWait)}`);
    traceId = doc.verify.traceId;
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
