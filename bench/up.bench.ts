/**
 * How close `up` gets to the slowest component: the wall time of `mop-sandbox up` (the real CLI, from spawn to exit)
 * divided by the slowest stand-in's readiness delay. With parallel waits the ratio approaches 1; what remains is
 * fixed cost (CLI start, preflight, container creation and starts along the depends_on chain store -> buckets ->
 * tempo/mimir/loki -> alloy/grafana -> demo). Target: at most 1.1.
 *
 * Stand-ins (test/support/stand-ins.ts) with known readiness delays, the slowest being Loki (as with the real
 * images: its ingester waits 15 s after joining the ring). BENCH_SLOWEST_S sets that delay (default 60),
 * BENCH_RUNS the number of runs (default 1). Each run starts from nothing (`down --purge` before and after).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { engineUnavailable } from '../test/support/stand-ins.js';
import { createSandbox, repoRoot, runCommand, type Sandbox } from '../test/engine/harness.js';
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
const runs: { wall: number; ready: Record<string, number> }[] = [];
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
    return `run ${i + 1}: up ${r.wall.toFixed(1)}s / slowest delay ${D}s = ${(r.wall / D).toFixed(3)}   (last ready: ${slowest[0]} at ${slowest[1].toFixed(1)}s; ready times ${Object.entries(r.ready).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')})`;
  });
  const mean = runs.reduce((s, r) => s + r.wall, 0) / runs.length;
  console.log(`\nup wall time / slowest stand-in readiness delay (target <= 1.1):\n${lines.join('\n')}\nmean: ${(mean / D).toFixed(3)} (fixed cost ${(mean - D).toFixed(1)}s)`);
}, 300_000);

describe.skipIf(Boolean(why))(`up with stand-ins (slowest readiness delay ${D}s: loki)`, () => {
  bench(
    'mop-sandbox up (real CLI, stand-in images, from nothing to every component ready)',
    async () => {
      if (!sb) sb = await createSandbox('bench', Object.fromEntries(Object.entries(delays).map(([k, v]) => [k, { readyDelay: v }])));
      await runCommand(['down', '--purge'], sb.env);
      const r = await runUp(sb.env);
      if (r.code !== 0) throw new Error(`up exited ${r.code}: ${r.stdout}${r.stderr}`);
      const doc = JSON.parse(r.stdout);
      runs.push({ wall: r.wall, ready: Object.fromEntries(doc.components.map((c: { name: string; readySeconds: number }) => [c.name, c.readySeconds])) });
    },
    { iterations: RUNS, time: 0, warmupIterations: 0, warmupTime: 0, throws: true },
  );
});
