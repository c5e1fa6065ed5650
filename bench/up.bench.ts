/**
 * How close `up` gets to the slowest component: the wall time of `mop-sandbox up` (the real CLI, from spawn to exit)
 * divided by the slowest stand-in's readiness delay. With parallel waits the ratio approaches 1; what remains is
 * fixed cost (CLI start, preflight, container creation and starts along the depends_on chain store -> buckets ->
 * tempo/mimir/loki -> alloy/grafana -> demo). Target: at most 1.05 at 20 s (issue 15).
 *
 * Each run also prints where the fixed cost goes, from the engine's own container events: the CLI until compose
 * creates the first container, then each step of the chain to the slowest component's start.
 *
 * Stand-ins (test/support/stand-ins.ts) with known readiness delays, the slowest being Loki (as with the real
 * images: its ingester waits 15 s after joining the ring). BENCH_SLOWEST_S sets that delay (default 60),
 * BENCH_RUNS the number of runs (default 1). Each run starts from nothing (`down --purge` before and after).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { engineUnavailable } from '../test/support/stand-ins.js';
import { createSandbox, docker, repoRoot, runCommand, type Sandbox } from '../test/engine/harness.js';
import { spawn } from 'node:child_process';
import type { ComponentName } from '../scripts/stack/model.js';

const why = engineUnavailable();
if (why) console.log(`up benchmark skipped: ${why}`);

const D = Number(process.env.BENCH_SLOWEST_S ?? 60);
const RUNS = Number(process.env.BENCH_RUNS ?? 1);
/** Readiness delays in seconds; loki is the slowest. */
const delays: Partial<Record<ComponentName, number>> = {
  store: 1,
  tempo: Math.round(D * 0.8),
  mimir: Math.round(D * 0.9),
  loki: D,
  alloy: Math.round(D * 0.25),
  grafana: Math.round(D * 0.5),
  demo: 2,
};

const built = join(repoRoot, 'dist', 'scripts', 'cli.js');
const runs: { wall: number; ready: Record<string, number>; path: string }[] = [];

/** Container create/start/die events of a compose project while `fn` runs, as seconds from `fn`'s start. */
async function withEvents<T>(project: string, fn: () => Promise<T>): Promise<{ result: T; events: { at: number; action: string; service: string }[] }> {
  const since = Math.floor(Date.now() / 1000) - 1;
  const started = Date.now();
  const result = await fn();
  const until = Math.ceil(Date.now() / 1000) + 1;
  const stream = (await docker.getEvents({ since, until, filters: { type: ['container'], label: [`com.docker.compose.project=${project}`] } })) as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const events = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Action: string; timeNano: number; Actor: { Attributes: Record<string, string> } })
    .filter((e) => /^(create|start|die)$/.test(e.Action))
    .map((e) => ({ at: (e.timeNano / 1e6 - started) / 1000, action: e.Action, service: e.Actor.Attributes['com.docker.compose.service'] }));
  return { result, events };
}

/** "first create 2.4s, data-owner died 3.1s, store started 3.9s, ..., loki started 6.0s": the chain to the slowest start. */
function criticalPath(events: { at: number; action: string; service: string }[], slowest: string): string {
  const at = (action: string, service?: string) => events.find((e) => e.action === action && (!service || e.service === service))?.at;
  const steps: [string, number | undefined][] = [
    ['first create', at('create')],
    ['data-owner died', at('die', 'data-owner')],
    ['store started', at('start', 'store')],
    ['buckets started', at('start', 'buckets')],
    ['buckets died', at('die', 'buckets')],
    [`${slowest} started`, at('start', slowest)],
  ];
  return steps.flatMap(([what, s]) => (s === undefined ? [] : [`${what} ${s.toFixed(1)}s`])).join(', ');
}
let sb: Sandbox | undefined;

function runUp(env: NodeJS.ProcessEnv): Promise<{ code: number; wall: number; stdout: string; stderr: string }> {
  const args = existsSync(built) ? [built] : ['--import', 'tsx', join(repoRoot, 'scripts', 'cli.ts')];
  const started = performance.now();
  const child = spawn(process.execPath, [...args, 'up', '--no-open', '--json'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, wall: (performance.now() - started) / 1000, stdout, stderr })));
}

// Top level: vitest's bench mode runs only top-level hooks.
afterAll(async () => {
  if (sb) {
    await runCommand(['down', '--purge'], sb.env);
    await sb.cleanup();
  }
  if (!runs.length) return;
  const lines = runs.map((r, i) => {
    const slowest = Object.entries(r.ready).sort((a, b) => b[1] - a[1])[0];
    return (
      `run ${i + 1}: up ${r.wall.toFixed(1)}s / slowest delay ${D}s = ${(r.wall / D).toFixed(3)}   (last ready: ${slowest[0]} at ${slowest[1].toFixed(1)}s; ready times ${Object.entries(r.ready).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})\n` +
      `       critical path from the spawn: ${r.path}`
    );
  });
  const mean = runs.reduce((s, r) => s + r.wall, 0) / runs.length;
  console.log(`\nup wall time / slowest stand-in readiness delay (target <= 1.05 at 20 s):\n${lines.join('\n')}\nmean: ${(mean / D).toFixed(3)} (fixed cost ${(mean - D).toFixed(1)}s)`);
}, 300_000);

describe.skipIf(Boolean(why))(`up with stand-ins (slowest readiness delay ${D}s: loki)`, () => {
  bench(
    'mop-sandbox up (real CLI, stand-in images, from nothing to every component ready)',
    async () => {
      if (!sb) sb = await createSandbox('bench', Object.fromEntries(Object.entries(delays).map(([k, v]) => [k, { readyDelay: v }])));
      await runCommand(['down', '--purge'], sb.env);
      const { result: r, events } = await withEvents(sb.env.MOP_PROJECT!, () => runUp(sb!.env));
      if (r.code !== 0) throw new Error(`up exited ${r.code}: ${r.stdout}${r.stderr}`);
      const doc = JSON.parse(r.stdout);
      const ready: Record<string, number> = Object.fromEntries(doc.components.map((c: { name: string; readySeconds: number }) => [c.name, c.readySeconds]));
      const slowest = Object.entries(ready).sort((a, b) => b[1] - a[1])[0][0];
      runs.push({ wall: r.wall, ready, path: criticalPath(events, slowest) });
    },
    { iterations: RUNS, time: 0, warmupIterations: 0, warmupTime: 0, throws: true },
  );
});
