import type { ParseArgsConfig } from 'node:util';
import type { Exec } from '../lib/exec.js';
import type { Output } from '../lib/output.js';

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
