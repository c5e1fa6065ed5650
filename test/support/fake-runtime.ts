/**
 * Strict fakes for the command layer (test code only; nothing here ships in dist/). A fake runtime answers only the
 * calls a test scripted, each once and in any order; any other call throws and is recorded in `unexpected`, which
 * `assertNoUnexpected` turns into a test failure (like supabase's apitest.ListUnmatchedRequests).
 */
import type { Exec } from '../../scripts/lib/exec.js';
import type { RuntimeName } from '../../scripts/stack/model.js';
import type { Runtime } from '../../scripts/runtimes/runtime.js';
import type { RuntimeChoice, RuntimeProvider } from '../../scripts/runtimes/provider.js';

type Methods = Required<Pick<Runtime, 'preflight' | 'exists' | 'keptData' | 'up' | 'status' | 'logs' | 'down'>>;
export type Script = { [K in keyof Methods]?: Methods[K] | Methods[K][] };

export interface FakeRuntime extends Runtime {
  /** Every call made, in order: "preflight", "status", "up"… */
  calls: string[];
  unexpected: string[];
}

export function fakeRuntime(name: RuntimeName, script: Script, project = 'mop-test'): FakeRuntime {
  const calls: string[] = [];
  const unexpected: string[] = [];
  const queues = Object.fromEntries(Object.entries(script).map(([k, v]) => [k, Array.isArray(v) ? [...v] : [v]])) as Record<string, ((...a: unknown[]) => unknown)[]>;
  const method =
    (m: keyof Methods) =>
    (...args: unknown[]) => {
      calls.push(m);
      const next = queues[m]?.shift();
      if (!next) {
        const what = `fake ${name} runtime: unexpected call ${m}(${args.map((a) => JSON.stringify(a)?.slice(0, 60)).join(', ')})`;
        unexpected.push(what);
        throw new Error(what);
      }
      return next(...args);
    };
  return {
    name,
    project,
    calls,
    unexpected,
    preflight: method('preflight') as Runtime['preflight'],
    exists: method('exists') as Runtime['exists'],
    keptData: method('keptData') as Runtime['keptData'],
    up: method('up') as Runtime['up'],
    status: method('status') as Runtime['status'],
    logs: method('logs') as Runtime['logs'],
    down: method('down') as Runtime['down'],
  };
}

/** A RuntimeProvider over fake runtimes: `select`/`recorded`/`other` hand out only the runtimes given. */
export function fakeRuntimes(runtimes: Partial<Record<RuntimeName, FakeRuntime>>): RuntimeProvider & { unexpected: string[] } {
  const unexpected: string[] = [];
  const get = (n: RuntimeName, call: string) => {
    const rt = runtimes[n];
    if (!rt) {
      unexpected.push(`${call}: no fake ${n} runtime`);
      throw new Error(`fake runtimes: ${call} asked for ${n}, which the test did not provide`);
    }
    return rt;
  };
  return {
    unexpected,
    async select(choice: RuntimeChoice) {
      const n: RuntimeName = choice === 'auto' ? 'compose' : choice;
      return { runtime: get(n, `select(${choice})`), reason: choice === 'auto' ? 'auto: fake' : 'chosen with --runtime' };
    },
    async recorded(n) {
      return get(n ?? 'compose', `recorded(${n})`);
    },
    async other(n) {
      return runtimes[n === 'kind' ? 'compose' : 'kind'];
    },
    async hasKind() {
      return Boolean(runtimes.kind);
    },
  };
}

/** An Exec that refuses every program: commands under test must go through the (fake) runtime. */
export function noExec(): Exec & { unexpected: string[] } {
  const unexpected: string[] = [];
  return {
    unexpected,
    async run(file, args) {
      unexpected.push(`exec ${file} ${args.join(' ')}`);
      throw new Error(`no program may run in this test: ${file} ${args.join(' ')}`);
    },
    async which(bin) {
      unexpected.push(`which ${bin}`);
      throw new Error(`no program lookup in this test: ${bin}`);
    },
  };
}
