/**
 * All external programs run through here, so that every failure carries the command, its exit code and the tail of
 * its stderr, and so tests can inject a recorder where a program cannot run. Programs start without a shell
 * (`child_process.spawn`, `shell: false`): every call names the program and its arguments apart, so nothing needs
 * quoting, and native Windows has no bash (zx's `$` needs one and, without it, fails every command with exit 1).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';

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

/** Exit codes the wrapper reports itself, in the conventions of POSIX shells. */
export const NOT_FOUND_EXIT = 127;
/** Found but not startable here (a batch file on Windows). */
export const CANNOT_RUN_EXIT = 126;
export const TIMEOUT_EXIT = 124;
export const INTERRUPTED_EXIT = 130;

/** How long a stopped process may take to exit after SIGTERM before it gets SIGKILL. */
const KILL_GRACE_MS = 5000;

/**
 * Which file to start. On Windows, libuv finds only `.exe`/`.com` on PATH by itself, so the name is resolved first
 * with PATHEXT (`which`); a `.cmd`/`.bat` cannot start without cmd.exe (Node refuses it since CVE-2024-27980), so it
 * is refused with a message saying so. Elsewhere the kernel's PATH search (execvp) is enough.
 */
export async function resolveProgram(file: string, platform: NodeJS.Platform, which: (bin: string) => Promise<string | null>): Promise<string> {
  if (platform !== 'win32') return file;
  const found = (await which(file)) ?? file;
  if (/\.(cmd|bat)$/i.test(found)) {
    throw new Error(`${found} is a batch file, which mop-sandbox does not run (it starts programs without a shell); install the program's .exe`);
  }
  return found;
}

/**
 * Ends a process and everything it started: its own process group on Unix (spawned detached, so the group is
 * ours alone), `taskkill /T` on Windows (which has no groups to signal). Unix gets SIGKILL if SIGTERM is not enough.
 */
export function killTree(
  child: Pick<ChildProcess, 'pid' | 'exitCode' | 'signalCode' | 'kill' | 'once'>,
  platform: NodeJS.Platform = process.platform,
  start: typeof spawn = spawn,
): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  if (platform === 'win32') {
    const taskkill = process.env.SystemRoot ? `${process.env.SystemRoot}\\System32\\taskkill.exe` : 'taskkill.exe';
    start(taskkill, ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => child.kill());
    return;
  }
  const signalGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      child.kill(sig); // the group is gone or was never ours
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  timer.unref();
  child.once('exit', () => clearTimeout(timer));
}

/** zx's `which` (the npm `which`: PATH and, on Windows, PATHEXT); it starts no process. */
async function whichOnPath(bin: string): Promise<string | null> {
  const { which } = await import('zx');
  return which(bin, { nothrow: true });
}

export function createExec(platform: NodeJS.Platform = process.platform, which: (bin: string) => Promise<string | null> = whichOnPath): Exec {
  async function start(file: string, args: string[], opts: RunOptions): Promise<RunResult> {
    let resolved: string;
    try {
      resolved = await resolveProgram(file, platform, which);
    } catch (e) {
      return { stdout: '', stderr: (e as Error).message, exitCode: CANNOT_RUN_EXIT };
    }
    return runProgram(resolved, args, opts, platform);
  }
  return {
    async run(file, args, opts = {}) {
      const command = formatCommand(file, args);
      const result = await start(file, args, opts);
      if (result.exitCode !== 0 && !opts.allowFail) throw new CommandFailed(command, result.exitCode, result.stderr, result.stdout);
      return result;
    },
    which,
  };
}

function runProgram(file: string, args: string[], opts: RunOptions, platform: NodeJS.Platform): Promise<RunResult> {
  return new Promise((resolve) => {
    if (opts.signal?.aborted) return resolve({ stdout: '', stderr: 'interrupted before it started', exitCode: INTERRUPTED_EXIT });
    const child = spawn(file, args, {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      shell: false,
      windowsHide: true,
      // Its own process group on Unix, so that stopping it stops what it started (compose's plugins, kubectl's children).
      detached: platform !== 'win32',
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    const err: string[] = [];
    const outText = new StringDecoder('utf8');
    const errText = new StringDecoder('utf8');
    child.stdout!.on('data', (d: Buffer) => {
      const s = outText.write(d);
      out.push(s);
      if (s && opts.onStdout) opts.onStdout(s);
    });
    child.stderr!.on('data', (d: Buffer) => err.push(errText.write(d)));
    let stopped: 'timeout' | 'aborted' | undefined;
    const stop = (why: 'timeout' | 'aborted') => {
      stopped ??= why;
      killTree(child, platform);
    };
    const timer = opts.timeoutMs ? setTimeout(() => stop('timeout'), opts.timeoutMs) : undefined;
    const onAbort = () => stop('aborted');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.input !== undefined) {
      child.stdin!.on('error', () => undefined); // a program that exits without reading its input
      child.stdin!.end(opts.input);
    }
    let spawnError: NodeJS.ErrnoException | undefined;
    child.once('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      const tail = outText.end();
      if (tail && opts.onStdout) opts.onStdout(tail);
      const stdout = out.join('') + tail;
      let stderr = err.join('') + errText.end();
      let exitCode = code ?? 1;
      if (spawnError) {
        exitCode = spawnError.code === 'ENOENT' ? NOT_FOUND_EXIT : 1;
        stderr = spawnError.code === 'ENOENT' ? `${file}: not found on PATH` : `${file}: ${spawnError.message}`;
      } else if (stopped === 'timeout') {
        exitCode = TIMEOUT_EXIT;
        stderr = `${stderr}${stderr && !stderr.endsWith('\n') ? '\n' : ''}stopped after ${opts.timeoutMs! / 1000}s without finishing`;
      } else if (stopped === 'aborted') {
        exitCode = INTERRUPTED_EXIT;
      } else if (code === null && signal) {
        exitCode = 128 + (constants.signals[signal] ?? 0);
      }
      resolve({ stdout, stderr, exitCode });
    });
  });
}

