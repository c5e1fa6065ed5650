/**
 * Where commands get their runtimes: the real ones (loaded on first use, so a command's `--help` does not load Docker
 * clients) or, in tests, a fake passed to the runner.
 */
import { usageError } from '../lib/errors.js';
import type { RuntimeName } from '../stack/model.js';
import type { Runtime, RuntimeDeps } from './runtime.js';

export type RuntimeChoice = RuntimeName | 'auto';
export const runtimeChoices: RuntimeChoice[] = ['auto', 'compose', 'kind'];

export function parseRuntimeChoice(v: unknown): RuntimeChoice {
  const s = v === undefined || v === '' ? 'auto' : String(v);
  if (!(runtimeChoices as string[]).includes(s)) throw usageError(`unknown runtime "${s}"`, `use one of: ${runtimeChoices.join(', ')}`);
  return s as RuntimeChoice;
}

export interface Selection {
  runtime: Runtime;
  /** Why this runtime (for `up` to print). */
  reason: string;
}

export interface RuntimeProvider {
  /** `up`: the runtime for a --runtime choice. */
  select(choice: RuntimeChoice, deps: RuntimeDeps): Promise<Selection>;
  /** Commands after `up`: the runtime recorded in the state file, else compose. */
  recorded(name: RuntimeName | undefined, deps: RuntimeDeps): Promise<Runtime>;
  /** The runtime that is not `name`, when this build has it (for cleaning up after both). */
  other(name: RuntimeName, deps: RuntimeDeps): Promise<Runtime | undefined>;
  /** Whether this build ships the kind runtime. */
  hasKind(): Promise<boolean>;
}

export const realRuntimes: RuntimeProvider = {
  select: async (choice, deps) => (await import('./select.js')).selectRuntime(choice, deps),
  recorded: async (name, deps) => (await import('./select.js')).runtimeFor(name, deps),
  other: async (name, deps) => (await import('./select.js')).otherRuntime(name, deps),
  hasKind: async () => Boolean(await (await import('./select.js')).loadKind()),
};
