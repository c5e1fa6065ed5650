/**
 * Which runtime a command uses. `up --runtime auto` (the default) picks kind when kind and kubectl are installed,
 * Docker answers and the kind runtime ships with this build; compose otherwise. Later commands (status, logs, down)
 * use the runtime recorded in the state file by `up`.
 */
import { ExitCode, UserError } from '../lib/errors.js';
import type { RuntimeName } from '../stack/model.js';
import { createComposeRuntime, type ComposeRuntimeDeps } from './compose/index.js';
import type { RuntimeChoice, Selection } from './provider.js';
import type { Runtime, RuntimeDeps } from './runtime.js';

export { parseRuntimeChoice, runtimeChoices, type RuntimeChoice, type Selection } from './provider.js';

type KindModule = { createKindRuntime?: (deps: RuntimeDeps) => Runtime; createRuntime?: (deps: RuntimeDeps) => Runtime };

/** Loads scripts/runtimes/kind/index.ts when this build has it (expected export: `createKindRuntime(deps: RuntimeDeps): Runtime`). */
export async function loadKind(): Promise<((deps: RuntimeDeps) => Runtime) | undefined> {
  const spec = './kind/index.js';
  try {
    const m = (await import(spec)) as KindModule;
    return m.createKindRuntime ?? m.createRuntime;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes('kind/index.js')) return undefined;
    throw e;
  }
}

const kindMissing = () =>
  new UserError({
    what: 'the kind runtime is not available in this build of mop-sandbox',
    next: 'use `--runtime compose` (the default when kind is not available)',
    exitCode: ExitCode.usage,
    code: 'RUNTIME_UNAVAILABLE',
  });

/**
 * Picks the runtime. `auto`: kind when the kind runtime exists and `kind` and `kubectl` are on PATH and Docker
 * answers; compose otherwise.
 */
export async function selectRuntime(choice: RuntimeChoice, deps: ComposeRuntimeDeps): Promise<Selection> {
  if (choice === 'compose') return { runtime: createComposeRuntime(deps), reason: 'chosen with --runtime' };
  const kind = await loadKind();
  if (choice === 'kind') {
    if (!kind) throw kindMissing();
    return { runtime: kind(deps), reason: 'chosen with --runtime' };
  }
  const compose = createComposeRuntime(deps);
  if (!kind) return { runtime: compose, reason: 'auto: this build has no kind runtime' };
  const [k, kc] = await Promise.all([deps.exec.which('kind'), deps.exec.which('kubectl')]);
  if (!k || !kc) return { runtime: compose, reason: `auto: ${!k ? 'kind' : 'kubectl'} is not installed` };
  const dockerUp = await compose
    .engine()
    .then(() => true)
    .catch(() => false);
  if (!dockerUp) return { runtime: compose, reason: 'auto: Docker does not answer, so kind cannot run either' };
  return { runtime: kind(deps), reason: 'auto: kind and kubectl are installed and Docker runs' };
}

/** The runtime for commands after `up`: the one recorded in the state file, else compose. */
export async function runtimeFor(recorded: RuntimeName | undefined, deps: ComposeRuntimeDeps): Promise<Runtime> {
  if (recorded === 'kind') {
    const kind = await loadKind();
    if (!kind) throw kindMissing();
    return kind(deps);
  }
  return createComposeRuntime(deps);
}

/** The runtime that is not `name`, when this build has it (for cleaning up after both). */
export async function otherRuntime(name: RuntimeName, deps: ComposeRuntimeDeps): Promise<Runtime | undefined> {
  if (name === 'kind') return createComposeRuntime(deps);
  const kind = await loadKind();
  return kind?.(deps);
}
