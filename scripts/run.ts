/**
 * The CLI runner: argv in, exit code out. The bin (scripts/cli.ts) calls it with the process's streams and signals;
 * tests call it with their own sink, environment, signal and runtimes. The only place that turns an error into an
 * exit code.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { commandTable, type CommandName } from './commands/index.js';
import { commonFlags, type Command, type CommandContext, type FlagSpecs } from './commands/command.js';
import { ExitCode, UserError, usageError } from './lib/errors.js';
import { createExec, type Exec } from './lib/exec.js';
import { lockStack } from './lib/lock.js';
import { createOutput, processSink, type Sink } from './lib/output.js';
import { packageRoot } from './lib/paths.js';
import { realRuntimes, type RuntimeProvider } from './runtimes/provider.js';

export interface CliDeps {
  env?: NodeJS.ProcessEnv;
  sink?: Sink;
  exec?: Exec;
  /** Aborted on Ctrl-C (the bin wires SIGINT/SIGTERM to it). */
  signal?: AbortSignal;
  runtimes?: RuntimeProvider;
}

function version(): string {
  return JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')).version;
}

export function mainHelp(): string {
  const names = Object.keys(commandTable) as CommandName[];
  const width = Math.max(...names.map((n) => n.length));
  return [
    'mop-sandbox: a complete Grafana observability stack (Alloy, Tempo, Mimir, Loki, Grafana) on your laptop.',
    '',
    'Usage: mop-sandbox <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commandTable[n].summary}`),
    '',
    'Every command takes --help, and --json for one machine-readable JSON document on stdout.',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 preflight (Docker, ports, tools), 4 component not ready, 130 interrupted.',
  ].join('\n');
}

/** `mop-sandbox <name> --help`, generated from the command's flag declarations and the table's summary. */
export function commandHelp(name: CommandName, cmd: Command): string {
  const flags: FlagSpecs = { ...cmd.flags, ...commonFlags };
  const left = (flag: string) => {
    const f = flags[flag];
    const short = f.short ? `-${f.short}, ` : '';
    return `${short}--${flag}${f.type === 'string' ? ` ${f.valueHint ?? 'VALUE'}` : ''}`;
  };
  const width = Math.max(...Object.keys(flags).map((k) => left(k).length));
  const synopsis = Object.keys(cmd.flags).map((k) => (flags[k].type === 'string' ? `[--${k} ${flags[k].valueHint ?? 'VALUE'}]` : `[--${k}]`));
  return [
    `Usage: mop-sandbox ${[name, cmd.args, ...synopsis, '[--json]'].filter(Boolean).join(' ')}`,
    '',
    commandTable[name].summary,
    '',
    'Options:',
    ...Object.entries(flags).map(([k, f]) => {
      const extra = [f.env && `env ${f.env}`, typeof f.default === 'string' && `default ${f.default}`].filter(Boolean);
      return `  ${left(k).padEnd(width)}  ${f.description}${extra.length ? ` (${extra.join('; ')})` : ''}`;
    }),
    ...(cmd.notes?.length ? ['', ...cmd.notes] : []),
  ].join('\n');
}

/** The declaration without what parseArgs does not know (descriptions, hints, env names). */
function parseOptions(flags: FlagSpecs): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(flags).map(([k, f]) => [k, { type: f.type, ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) }]),
  ) as NonNullable<ParseArgsConfig['options']>;
}

/** Runs a command, holding the stack lock while it runs when the command changes the stack. */
async function runLocked(cmd: Command, ctx: CommandContext): Promise<number> {
  if (!cmd.lock) return cmd.run(ctx);
  const lock = await lockStack(ctx, cmd.lock(ctx.flags));
  try {
    return await cmd.run(ctx);
  } finally {
    await lock.release();
  }
}

export async function runCli(argv: string[], deps: CliDeps = {}): Promise<number> {
  const sink = deps.sink ?? processSink;
  const signal = deps.signal ?? new AbortController().signal;
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    sink.out(mainHelp() + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-v') {
    sink.out(version() + '\n');
    return ExitCode.ok;
  }
  const out = createOutput({ json: rest.includes('--json'), sink });
  let code: number;
  try {
    if (!Object.hasOwn(commandTable, name)) throw usageError(`unknown command "${name}"`, 'run `mop-sandbox --help` to list the commands');
    const cmd = (await commandTable[name as CommandName].load()) as Command;
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: parseOptions({ ...commonFlags, ...cmd.flags }), allowPositionals: true, strict: true });
    } catch (e) {
      throw usageError((e as Error).message.split('\n')[0], `run \`mop-sandbox ${name} --help\``);
    }
    if (parsed.values.help) {
      sink.out(commandHelp(name as CommandName, cmd) + '\n');
      return ExitCode.ok;
    }
    if (!cmd.args && parsed.positionals.length) {
      throw usageError(`unexpected argument "${parsed.positionals[0]}"`, `run \`mop-sandbox ${name} --help\``);
    }
    const ctx: CommandContext = {
      args: parsed.positionals,
      flags: parsed.values as CommandContext['flags'],
      out,
      exec: deps.exec ?? createExec(),
      env: deps.env ?? process.env,
      signal,
      runtimes: deps.runtimes ?? realRuntimes,
    };
    code = await runLocked(cmd, ctx);
  } catch (err) {
    out.error(err);
    code = err instanceof UserError ? err.exitCode : signal.aborted ? ExitCode.interrupted : ExitCode.failure;
  }
  out.finish(code);
  return code;
}
