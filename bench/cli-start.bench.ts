/**
 * How fast the CLI answers `--help` and `--version`: each run of the built CLI (dist/scripts/cli.js) is paired with a
 * run of a bare `node -e 0` right before it, so both see the same machine load; the figure is the median of the
 * per-pair ratios. Target: at most 1.6 for `--help`, `--version` and `<command> --help`.
 *
 * BENCH_PAIRS sets the number of pairs per case (default 15). Needs `npm run build` (npm run bench does it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'scripts', 'cli.js');
const PAIRS = Number(process.env.BENCH_PAIRS ?? 15);
const cases = [['--help'], ['--version'], ['up', '--help'], ['status', '--help']];
const results: { args: string[]; ratio: number; cliMs: number; nodeMs: number }[] = [];

function timed(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

afterAll(() => {
  if (!results.length) return;
  const lines = results.map((r) => `  ${r.args.join(' ').padEnd(16)} ${r.ratio.toFixed(2)}x   (median cli ${r.cliMs.toFixed(0)} ms, node -e 0 ${r.nodeMs.toFixed(0)} ms)`);
  console.log(`\nCLI start / bare \`node -e 0\`, median of ${PAIRS} paired runs (target <= 1.6):\n${lines.join('\n')}`);
});

describe.skipIf(!existsSync(cli))('CLI start time (built CLI)', () => {
  for (const args of cases) {
    bench(
      `mop-sandbox ${args.join(' ')} paired with node -e 0`,
      () => {
        timed(['-e', '0']); // warm the file cache for both
        timed([cli, ...args]);
        const ratios: number[] = [];
        const cliMs: number[] = [];
        const nodeMs: number[] = [];
        for (let i = 0; i < PAIRS; i++) {
          const n = timed(['-e', '0']);
          const c = timed([cli, ...args]);
          ratios.push(c / n);
          cliMs.push(c);
          nodeMs.push(n);
        }
        results.push({ args, ratio: median(ratios), cliMs: median(cliMs), nodeMs: median(nodeMs) });
      },
      { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0, throws: true },
    );
  }
});
