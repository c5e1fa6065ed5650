/**
 * All external programs run through here (zx underneath), so that every failure carries the command,
 * its exit code and the tail of its stderr, and so tests can inject a recorder where a program cannot run.
 */
import type { ProcessOutput } from 'zx';

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  signal?: AbortSignal;
  /** Receives stdout as it arrives (long-running commands such as `kubectl logs -f`); the result still holds all of it. */
  onStdout?: (chunk: string) => void;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Exec {
  run(file: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  which(bin: string): Promise<string | null>;
}

export class CommandFailed extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super(`\`${command}\` exited with code ${exitCode}${stderrTail(stderr) ? `: ${stderrTail(stderr)}` : ''}`);
    this.name = 'CommandFailed';
  }
  /** The last lines of stderr, for messages. */
  get tail(): string {
    return stderrTail(this.stderr, 10);
  }
}

export function stderrTail(stderr: string, lines = 3): string {
  return stderr.trim().split('\n').slice(-lines).join('\n');
}

export function formatCommand(file: string, args: string[]): string {
  return [file, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

export function createExec(): Exec {
  return {
    async run(file, args, opts = {}) {
      // zx loads on the first program run, so commands that run none (`--help`, `scenario`) start without it.
      const { $ } = await import('zx');
      const sh = $({
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        input: opts.input,
        quiet: true,
        nothrow: true,
        timeout: opts.timeoutMs,
        signal: opts.signal,
        verbose: false,
      });
      const child = sh`${file} ${args}`;
      if (opts.onStdout) child.stdout?.on('data', (d: Buffer | string) => opts.onStdout!(d.toString()));
      const out: ProcessOutput = await child;
      const result = { stdout: out.stdout, stderr: out.stderr, exitCode: out.exitCode ?? 1 };
      if (result.exitCode !== 0 && !opts.allowFail) {
        throw new CommandFailed(formatCommand(file, args), result.exitCode, result.stderr, result.stdout);
      }
      return result;
    },
    async which(bin) {
      const { which } = await import('zx');
      return which(bin, { nothrow: true });
    },
  };
}
