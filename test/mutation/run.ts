/**
 * `npm run mutation [-- M1,M5,...]`: applies each one-line break in ./mutations.ts to a temp copy of the working
 * tree, runs that break's tests there, and reports caught or SURVIVED. Exits 1 when a break survives or its
 * anchor is stale. Not part of CI (it runs the chosen test files once per break: a few minutes).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutations, type Mutation } from './mutations.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const only = process.argv[2]?.split(',').filter(Boolean);
const chosen = only ? mutations.filter((m) => only.includes(m.id)) : mutations;
if (only && chosen.length !== only.length) {
  console.error(`unknown mutation id in ${only.join(',')}; known: ${mutations.map((m) => m.id).join(', ')}`);
  process.exit(2);
}

/** Occurrences of `find` in `text`. */
const count = (text: string, find: string) => text.split(find).length - 1;

// Stale anchors are reported before anything runs.
const stale = chosen.filter((m) => count(readFileSync(join(repo, m.file), 'utf8'), m.find) !== 1);
for (const m of stale) {
  const n = count(readFileSync(join(repo, m.file), 'utf8'), m.find);
  console.error(`${m.id}: the anchor occurs ${n} times in ${m.file} (must be once); update test/mutation/mutations.ts`);
}
if (stale.length) process.exit(1);

// A copy of the working tree (tracked and new files), sharing node_modules; ../shared beside it when present.
const root = mkdtempSync(join(tmpdir(), 'mop-mutation-'));
const copy = join(root, 'repo');
const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' }).split('\0').filter((f) => f && f !== 'node_modules' && !f.startsWith('node_modules/'));
for (const f of files) {
  if (!existsSync(join(repo, f))) continue;
  mkdirSync(dirname(join(copy, f)), { recursive: true });
  cpSync(join(repo, f), join(copy, f));
}
symlinkSync(join(repo, 'node_modules'), join(copy, 'node_modules'));
if (existsSync(join(repo, '..', 'shared'))) symlinkSync(resolve(repo, '..', 'shared'), join(root, 'shared'));
const pristine = new Map(files.map((f) => [f, join(repo, f)]));

const vitest = join(repo, 'node_modules', 'vitest', 'vitest.mjs');
const tsx = join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs');

/** Runs test files in the copy; the files that failed (or [] when all passed). */
function runTests(tests: string[]): { failed: string[]; output: string } {
  const report = join(root, 'report.json');
  rmSync(report, { force: true });
  const r = spawnSync(process.execPath, [vitest, 'run', '--reporter=json', `--outputFile=${report}`, ...tests], { cwd: copy, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  if (r.status === 0) return { failed: [], output: '' };
  let failed: string[] = ['(vitest failed before reporting)'];
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      testResults: { name: string; status: string; message?: string; assertionResults: { fullName: string; status: string }[] }[];
    };
    // Each failed file with its first failed test (or why it did not load), so a catch can be checked by eye.
    const names = json.testResults
      .filter((t) => t.status !== 'passed')
      .map((t) => `${t.name.replace(copy + '/', '')}: "${t.assertionResults.find((a) => a.status === 'failed')?.fullName ?? (t.message ?? '').split('\n')[0]}"`);
    if (names.length) failed = names;
  } catch {
    // keep the placeholder
  }
  return { failed, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

function restore(m: Mutation) {
  cpSync(pristine.get(m.file)!, join(copy, m.file));
  if (m.regenerate) for (const f of files.filter((f) => f.startsWith('compose/') || f.startsWith('k8s/'))) if (existsSync(join(repo, f))) cpSync(join(repo, f), join(copy, f));
}

function main(): number {
  const all = [...new Set(chosen.flatMap((m) => m.tests))];
  process.stdout.write(`baseline: ${all.length} test files on the unbroken copy ... `);
  const base = runTests(all);
  if (base.failed.length) {
    console.log(`FAILED (${base.failed.join(', ')})\nThe tests must pass before breaks mean anything.\n${base.output.slice(-3000)}`);
    return 1;
  }
  console.log('green');

  let caught = 0;
  const survived: string[] = [];
  for (const m of chosen) {
    const path = join(copy, m.file);
    // A function, so `$$` and `$&` in the replacement stay literal.
    writeFileSync(path, readFileSync(path, 'utf8').replace(m.find, () => m.replace));
    if (m.regenerate) execFileSync(process.execPath, [tsx, 'scripts/render/committed.ts'], { cwd: copy, stdio: 'ignore' });
    const { failed } = runTests(m.tests);
    restore(m);
    if (failed.length) caught++;
    else survived.push(m.id);
    console.log(`${m.id.padEnd(4)} ${failed.length ? 'caught  ' : 'SURVIVED'} ${m.what}${failed.length ? ` (by ${failed.join(', ')})` : ''}`);
  }
  console.log(`\nmutation score: ${caught}/${chosen.length} caught${survived.length ? `; survived: ${survived.join(', ')}` : ''}`);
  return survived.length ? 1 : 0;
}

try {
  process.exitCode = main();
} finally {
  rmSync(root, { recursive: true, force: true });
}
