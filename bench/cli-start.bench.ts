/**
 * How fast the CLI answers `--help` and `--version`: each run of the built CLI (dist/scripts/cli.js) is paired with a
 * run of a bare `node -e 0` right before it, so both see the same machine load; the figure is the median of the
 * per-pair ratios. Target: at most 1.6 for `--help`, `--version` and `<command> --help`.
 *
 * BENCH_PAIRS sets the number of pairs per call (default 15; vitest may call each case more than once). Needs `npm run build` (npm run bench does it).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'scripts', 'cli.js');
const PAIRS = Number(process.env.BENCH_PAIRS ?? 15);
const cases = [['--help'], ['--version'], ['up', '--help'], ['status', '--help']];
/** Per case, every pair measured (vitest may call a bench function more than once). */
const pairs = new Map<string, { ratio: number; cliMs: number; nodeMs: number }[]>();

function timed(args: string[]): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - started;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

afterAll(() => {
  if (!pairs.size) return;
  const lines = [...pairs].map(([name, ps]) => {
    const m = (k: 'ratio' | 'cliMs' | 'nodeMs') => median(ps.map((p) => p[k]));
    return `  ${name.padEnd(16)} ${m('ratio').toFixed(2)}x   (${ps.length} pairs; median cli ${m('cliMs').toFixed(0)} ms, node -e 0 ${m('nodeMs').toFixed(0)} ms)`;
  });
  console.log(`\nCLI start / bare \`node -e 0\`, median of the paired ratios (target <= 1.6):\n${lines.join('\n')}`);
});

describe.skipIf(!existsSync(cli))('CLI start time (built CLI)', () => {
  for (const args of cases) {
    bench(
      `mop-sandbox ${args.join(' ')} paired with node -e 0`,
      () => {
        timed(['-e', '0']); // warm the file cache for both
        timed([cli, ...args]);
        const mine = pairs.get(args.join(' ')) ?? [];
        pairs.set(args.join(' '), mine);
        for (let i = 0; i < PAIRS; i++) {
          const nodeMs = timed(['-e', '0']);
          const cliMs = timed([cli, ...args]);
          mine.push({ ratio: cliMs / nodeMs, cliMs, nodeMs });
        }
      },
      { iterations: 1, time: 0, warmupIterations: 0, warmupTime: 0, throws: true },
    );
  }
});
