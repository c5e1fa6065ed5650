/**
 * A recorded shell for the kind runtime's tests: no kind, no cluster, no registry needed. Each call is recorded as
 * one command line (the state dir shown as $STATE); the first rule whose prefix (or RegExp) matches answers it.
 * A command no rule expects fails the test, so every external call the runtime makes is visible in the test.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CommandFailed, formatCommand, type Exec, type RunOptions, type RunResult } from '../../scripts/lib/exec.js';
import type { DockerApi, EngineInfoRaw } from '../../scripts/lib/docker.js';
import { createOutput, type Output } from '../../scripts/lib/output.js';
import type { Stack } from '../../scripts/stack/model.js';

export type Reply = Partial<RunResult> | ((line: string, opts: RunOptions) => Partial<RunResult>);
export type Rule = [string | RegExp, Reply];

export interface RecordedShell extends Exec {
  /** Every command line run, in order. */
  calls: string[];
  /** Rules can be added while a test runs. */
  rules: Rule[];
}

export function recordedShell(stateDir: string, rules: Rule[] = []): RecordedShell {
  const calls: string[] = [];
  const shell: RecordedShell = {
    calls,
    rules,
    async run(file, args, opts = {}) {
      const line = formatCommand(file, args).split(stateDir).join('$STATE');
      calls.push(line);
      const rule = shell.rules.find(([m]) => (typeof m === 'string' ? line === m || line.startsWith(m + ' ') : m.test(line)));
      if (!rule) throw new Error(`recorded shell: no rule for \`${line}\``);
      const spec = rule[1];
      const r = typeof spec === 'function' ? spec(line, opts) : spec;
      const result = { stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode: r.exitCode ?? 0 };
      if (opts.onStdout && result.stdout) opts.onStdout(result.stdout);
      if (result.exitCode !== 0 && !opts.allowFail) throw new CommandFailed(formatCommand(file, args), result.exitCode, result.stderr, result.stdout);
      return result;
    },
    async which() {
      return null;
    },
  };
  return shell;
}

/** A state dir (MOP_STATE_DIR) and stub component configs + dashboards, so renders do not depend on config/ edits. */
const sandboxRoots: string[] = [];
afterAll(() => {
  for (const root of sandboxRoots.splice(0)) rmSync(root, { recursive: true, force: true });
});

export async function sandbox(stack: Stack) {
  const root = await mkdtemp(join(tmpdir(), 'mop-kind-'));
  sandboxRoots.push(root);
  const state = join(root, 'state');
  const sources = { config: join(root, 'config'), dashboards: join(root, 'dashboards') };
  for (const c of stack.components) {
    for (const f of c.configFiles) {
      const path = join(f.from === 'dashboards' ? sources.dashboards : sources.config, f.source);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `# stub ${f.source}\n`);
    }
  }
  mkdirSync(sources.dashboards, { recursive: true });
  writeFileSync(join(sources.dashboards, 'stub.json'), '{"title":"stub"}');
  return { root, state, sources, env: { MOP_STATE_DIR: state, PATH: process.env.PATH } as NodeJS.ProcessEnv };
}

/** Plain-mode output captured as text. */
export function capturedOutput(): { out: Output; text: () => string } {
  let buf = '';
  const out = createOutput({ sink: { out: (t) => (buf += t), err: (t) => (buf += t), isTTY: false } });
  return { out, text: () => buf };
}

/** A Docker engine that answers (preflight's docker and memory checks, and the port check's container lookup). */
export function fakeDocker(memTotal = 16 * 1024 ** 3, info: EngineInfoRaw = { ServerVersion: '28.2.2', OperatingSystem: 'Debian GNU/Linux 12', MemTotal: memTotal, NCPU: 8, Name: 'host' }): DockerApi {
  return {
    ping: async () => 'OK',
    info: async () => info,
    version: async () => ({ Version: '28.2.2', ApiVersion: '1.50' }),
    listContainers: async () => [],
  } as unknown as DockerApi;
}

/** A `docker info` fixture from test/runtime/fixtures (each names its source in `_source`). */
export function dockerInfoFixture(name: string): EngineInfoRaw {
  const { _source, ...info } = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8'));
  if (!_source) throw new Error(`fixture ${name} does not name its source`);
  return info;
}
