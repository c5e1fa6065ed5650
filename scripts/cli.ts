#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { commandLoaders } from './commands/index.js';
import { commonOptions, runCommand, type Command } from './commands/command.js';
import { ExitCode, UserError, usageError } from './lib/errors.js';
import { createExec } from './lib/exec.js';
import { createOutput } from './lib/output.js';
import { packageRoot } from './lib/paths.js';

function version(): string {
  return JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')).version;
}

function mainHelp(): string {
  const names = Object.keys(commandLoaders);
  const width = Math.max(...names.map((n) => n.length));
  return [
    'mop-sandbox: a complete Grafana observability stack (Alloy, Tempo, Mimir, Loki, Grafana) on your laptop.',
    '',
    'Usage: mop-sandbox <command> [options]',
    '',
    'Commands:',
    ...names.map((n) => `  ${n.padEnd(width)}  ${commandLoaders[n].summary}`),
    '',
    'Every command takes --help, and --json for one machine-readable JSON document on stdout.',
    'Exit codes: 0 ok, 1 failure, 2 usage, 3 preflight (Docker, ports, tools), 4 component not ready, 130 interrupted.',
  ].join('\n');
}

function commandHelp(cmd: Command): string {
  return [`Usage: mop-sandbox ${cmd.usage}`, '', cmd.summary].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const wantsJson = rest.includes('--json');
  const out = createOutput({ json: wantsJson });
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp() + '\n');
    return name ? ExitCode.ok : ExitCode.usage;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(version() + '\n');
    return ExitCode.ok;
  }
  const entry = commandLoaders[name];
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let code: number;
  try {
    if (!entry) throw usageError(`unknown command "${name}"`, 'run `mop-sandbox --help` to list the commands');
    const cmd = await entry.load();
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: { ...commonOptions, ...cmd.options }, allowPositionals: true, strict: true });
    } catch (e) {
      throw usageError((e as Error).message.split('\n')[0], `run \`mop-sandbox ${name} --help\``);
    }
    if (parsed.values.help) {
      process.stdout.write(commandHelp(cmd) + '\n');
      return ExitCode.ok;
    }
    if (!cmd.positionals && parsed.positionals.length) {
      throw usageError(`unexpected argument "${parsed.positionals[0]}"`, `run \`mop-sandbox ${name} --help\``);
    }
    code = await runCommand(cmd, {
      args: parsed.positionals,
      flags: parsed.values as Record<string, string | boolean | string[] | undefined>,
      out,
      exec: createExec(),
      env: process.env,
      signal: controller.signal,
    });
  } catch (err) {
    out.error(err);
    code = err instanceof UserError ? err.exitCode : controller.signal.aborted ? ExitCode.interrupted : ExitCode.failure;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  out.finish(code);
  return code;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
