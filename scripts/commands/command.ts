/**
 * What a command is. Each flag is declared once, with its description: `parseArgs` gets the declaration, `--help` is
 * rendered from it (scripts/run.ts) and the type of `ctx.flags` is derived from it (`defineCommand`).
 */
import type { Exec } from '../lib/exec.js';
import type { Output } from '../lib/output.js';
import type { RuntimeProvider } from '../runtimes/provider.js';

export interface FlagSpec {
  type: 'string' | 'boolean';
  short?: string;
  default?: string | boolean;
  /** One line for `--help`. */
  description: string;
  /** The value's placeholder in `--help` (string flags), e.g. "SECONDS". */
  valueHint?: string;
  /** The environment variable that sets the same thing when the flag is absent. */
  env?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

type FlagValue<F extends FlagSpec> = F['type'] extends 'boolean' ? boolean : F extends { default: string } ? string : string | undefined;
/** The parsed flags of a command, typed from its declaration (plus the common ones). */
export type FlagValues<F extends FlagSpecs = FlagSpecs> = { [K in keyof F]: FlagValue<F[K]> } & { json: boolean; help: boolean };

export interface CommandContext<F extends FlagSpecs = FlagSpecs> {
  /** Positional arguments after the command name. */
  args: string[];
  flags: FlagValues<F>;
  out: Output;
  exec: Exec;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C (SIGINT/SIGTERM); long operations must stop and clean up. */
  signal: AbortSignal;
  /** Where the runtimes come from (tests pass a fake). */
  runtimes: RuntimeProvider;
}

export interface Command<F extends FlagSpecs = FlagSpecs> {
  name: string;
  flags: F;
  /** The positional arguments' synopsis for `--help` ("[component]"); absent: the command takes none. */
  args?: string;
  /** Further lines for `--help` (after the summary from the command table and the flags). */
  notes?: string[];
  /**
   * Commands that change the stack: the name a waiting command shows for this one ("down --purge"). The stack lock
   * (lib/lock.ts) is held while `run` runs; such commands take `--no-wait` (`noWaitFlag`). Read-only commands leave it out.
   */
  lock?(flags: FlagValues<F>): string;
  /** Returns the exit code. Throws UserError for anything the user should read. */
  run(ctx: CommandContext<F>): Promise<number>;
}

/** Declares a command; `ctx.flags` is typed from `flags`. */
export function defineCommand<const F extends FlagSpecs>(cmd: Command<F>): Command<F> {
  return cmd;
}

/** Flags every command accepts. */
export const commonFlags = {
  json: { type: 'boolean', default: false, description: 'print one JSON document on stdout (progress goes nowhere; errors go in the document)' },
  help: { type: 'boolean', short: 'h', default: false, description: 'show this help' },
} as const satisfies FlagSpecs;

/** Flags several commands share (declared here once). */
export const runtimeFlag = {
  type: 'string',
  valueHint: 'compose|kind|auto',
  description: 'the runtime: compose, kind, or auto (kind when kind and kubectl are installed, else compose)',
} as const satisfies FlagSpec;
export const profileFlagSpec = {
  type: 'string',
  valueHint: 'NAME',
  env: 'MOP_PROFILE',
  description: 'the profile: default, dev or prod (after `up`, the one it used)',
} as const satisfies FlagSpec;
export const timeoutFlag = (what: string) =>
  ({ type: 'string', valueHint: 'SECONDS', description: `${what} (seconds, or 300s, 5m)` }) as const satisfies FlagSpec;
export const noWaitFlag = {
  type: 'boolean',
  default: false,
  description: 'when another command is changing the stack, fail at once instead of waiting for it',
} as const satisfies FlagSpec;
export const allowNonLoopbackFlag = {
  type: 'boolean',
  default: false,
  description: 'allow a bindAddress other than loopback (every port is then reachable from the network)',
} as const satisfies FlagSpec;
