import type { ParseArgsConfig } from 'node:util';
import type { Exec } from '../lib/exec.js';
import type { Output } from '../lib/output.js';
import { lockStack } from '../lib/lock.js';

export type FlagValues = Record<string, string | boolean | string[] | undefined>;

export interface CommandContext {
  /** Positional arguments after the command name. */
  args: string[];
  flags: FlagValues;
  out: Output;
  exec: Exec;
  env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C (SIGINT/SIGTERM); long operations must stop and clean up. */
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  /** Usage line(s) shown by `mop-sandbox <name> --help`, without the program name. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /**
   * Commands that change the stack: the name a waiting command shows for this one ("down --purge"). The stack lock
   * (lib/lock.ts) is held while `run` runs; such commands take `--no-wait`. Read-only commands leave it out.
   */
  lock?(flags: FlagValues): string;
  /** Whether positional arguments are accepted. */
  positionals?: boolean;
  /** Returns the exit code. Throws UserError for anything the user should read. */
  run(ctx: CommandContext): Promise<number>;
}

/** Options every command accepts. */
export const commonOptions = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

/** Runs a command, holding the stack lock while it runs when the command changes the stack. */
export async function runCommand(cmd: Command, ctx: CommandContext): Promise<number> {
  if (!cmd.lock) return cmd.run(ctx);
  const lock = await lockStack(ctx, cmd.lock(ctx.flags));
  try {
    return await cmd.run(ctx);
  } finally {
    await lock.release();
  }
}
