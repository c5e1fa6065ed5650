/**
 * One lock per state directory for the commands that change the stack (up, down, snapshot load, ...): a second one
 * waits, saying who holds it (pid, command, since when), or stops at once with --no-wait. A lock whose process is
 * gone is taken over, and said so. Read-only commands never take it (they may `peek` to mention it).
 *
 * The lock is `<stateDir>/lock`, created with O_EXCL (atomic on local filesystems) and holding JSON
 * {pid, command, since, host, procStart}. procStart (Linux: the process start time from /proc/<pid>/stat) tells a
 * reused pid from the holder. A stale lock is removed under a short-lived `lock.takeover` file (also O_EXCL), so
 * two commands that find the same stale lock cannot both take it.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { ExitCode, UserError } from './errors.js';
import type { Output } from './output.js';
import { stateDir } from './state.js';
import { sleep } from './sleep.js';

export interface LockHolder {
  pid: number;
  /** What the holder runs, e.g. "up" or "down --purge". */
  command: string;
  /** ISO time it took the lock. */
  since: string;
  host: string;
  procStart?: string;
  /** Tells two holders in one process apart (tests run commands in-process). */
  token?: string;
}

export interface LockOptions {
  /** The command taking the lock, as the user typed it ("up", "down --purge"). */
  command: string;
  /** false: fail at once when held (--no-wait). */
  wait: boolean;
  signal: AbortSignal;
  /** Said once when the lock is held by a live process and we wait. */
  onWait?(holder: LockHolder): void;
  /** Said when a lock left by a process that is gone is taken over. */
  onStale?(holder: LockHolder): void;
  pollMs?: number;
  /** Injected for tests: is this pid (with this start time) alive? */
  alive?(holder: LockHolder): boolean;
}

export interface Lock {
  readonly path: string;
  release(): Promise<void>;
}

export const lockPath = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'lock');
/** A takeover file older than this was left by a process that died mid-takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks since boot); undefined elsewhere. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may contain spaces: split after the last ")".
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the holder still runs: on another host we cannot tell, so it counts as alive. */
export function holderAlive(h: LockHolder): boolean {
  if (h.host !== hostname()) return true;
  try {
    process.kill(h.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(h.pid);
  return !(h.procStart && now && now !== h.procStart);
}

/** Who holds the lock, or undefined when nobody (or the file is unreadable: being written, or just removed). */
export async function peekLock(env: NodeJS.ProcessEnv): Promise<LockHolder | undefined> {
  return readHolder(lockPath(env));
}

async function readHolder(path: string): Promise<LockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' ? h : undefined;
  } catch {
    return undefined;
  }
}

async function createExclusive(path: string, content: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.writeFile(content);
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Removes the lock of a dead holder, unless someone else already did (and maybe took the lock since). */
async function takeOver(path: string, dead: LockHolder): Promise<boolean> {
  const guard = `${path}.takeover`;
  if (!(await createExclusive(guard, String(process.pid)))) {
    const age = await stat(guard).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > TAKEOVER_STALE_MS) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    const now = await readHolder(path);
    if (!now || now.pid !== dead.pid || now.since !== dead.since || now.token !== dead.token) return false;
    await unlink(path).catch(() => undefined);
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

/** "`mop-sandbox up` (pid 1234, since 2026-11-29T03:41:02.000Z, 35s ago)" */
export const describeLockHolder = (h: LockHolder, now = Date.now()) =>
  `\`mop-sandbox ${h.command}\` (pid ${h.pid}${h.host === hostname() ? '' : ` on ${h.host}`}, since ${h.since}, ${ago(h.since, now)})`;

export async function acquireLock(env: NodeJS.ProcessEnv, opts: LockOptions): Promise<Lock> {
  const dir = stateDir(env);
  const path = lockPath(env);
  const alive = opts.alive ?? holderAlive;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const me: LockHolder = { pid: process.pid, command: opts.command, since: new Date().toISOString(), host: hostname(), procStart: processStart(process.pid), token: randomBytes(6).toString('hex') };
  let announced = false;
  for (;;) {
    if (await createExclusive(path, JSON.stringify(me) + '\n')) break;
    const holder = await readHolder(path);
    if (!holder) {
      // Being written or just released: look again shortly. A file that stays unreadable is not a lock we made.
      const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > TAKEOVER_STALE_MS) await unlink(path).catch(() => undefined);
    } else if (!alive(holder)) {
      if (await takeOver(path, holder)) opts.onStale?.(holder);
      continue;
    } else if (!opts.wait) {
      throw new UserError({
        what: `another command is changing this stack: ${describeLockHolder(holder)}`,
        why: `one command at a time may change the stack in ${dir} (--no-wait: not waiting for it)`,
        next: 'wait for it to finish and run the command again, or run it without --no-wait to wait; `mop-sandbox status` works meanwhile',
        exitCode: ExitCode.preflight,
        code: 'STACK_LOCKED',
      });
    } else if (!announced) {
      announced = true;
      opts.onWait?.(holder);
    }
    if (opts.signal.aborted) {
      throw new UserError({
        what: 'interrupted',
        why: `Ctrl-C while waiting for ${holder ? describeLockHolder(holder) : 'another command'} to finish; nothing was changed`,
        exitCode: ExitCode.interrupted,
        code: 'INTERRUPTED',
      });
    }
    await sleep(opts.pollMs ?? 250, opts.signal);
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      const h = await readHolder(path);
      if (h && h.pid === me.pid && h.token === me.token) await unlink(path).catch(() => undefined);
    },
  };
}

/**
 * The lock for a command that changes the stack, with its messages: waiting (who holds it) and a stale takeover.
 * Release it in a `finally`.
 */
export function lockStack(
  ctx: { env: NodeJS.ProcessEnv; out: Output; signal: AbortSignal; flags: Record<string, unknown> },
  command: string,
): Promise<Lock> {
  return acquireLock(ctx.env, {
    command,
    wait: !ctx.flags['no-wait'],
    signal: ctx.signal,
    onWait: (h) => ctx.out.info(`waiting for ${describeLockHolder(h)} to finish changing the stack (Ctrl-C stops waiting; --no-wait fails at once)`),
    onStale: (h) => ctx.out.warn(`took over the lock of ${describeLockHolder(h)}: that process is gone`),
  });
}
