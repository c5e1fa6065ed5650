import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, holderAlive, lockPath, peekLock, processStart, type LockHolder } from '../../scripts/lib/lock.js';
import { UserError } from '../../scripts/lib/errors.js';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mop-lock-'));
  env = { MOP_STATE_DIR: join(dir, 'state') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const never = new AbortController().signal;
/** The pid of a process that has exited. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

describe('stack lock', () => {
  it('a second command with --no-wait stops at once, naming the holder: pid, command, since when (exit 3)', async () => {
    const first = await acquireLock(env, { command: 'up', wait: true, signal: never });
    const held = JSON.parse(readFileSync(lockPath(env), 'utf8')) as LockHolder;
    const e = await acquireLock(env, { command: 'down', wait: false, signal: never }).catch((x) => x);
    expect(e).toBeInstanceOf(UserError);
    expect(e).toMatchObject({ code: 'STACK_LOCKED', exitCode: 3 });
    expect(e.what).toContain(`\`mop-sandbox up\` (pid ${process.pid}, since ${held.since}, `);
    expect(e.next).toMatch(/without --no-wait/);
    await first.release();
    expect(existsSync(lockPath(env))).toBe(false);
  });

  it('a second command waits, says once who it waits for, and goes on when the first releases', async () => {
    const first = await acquireLock(env, { command: 'up', wait: true, signal: never });
    const waited: LockHolder[] = [];
    let acquired = false;
    // The holder check runs once per poll: count polls instead of sleeping and hoping some happened.
    let polls = 0;
    let threePolls!: () => void;
    const polledThrice = new Promise<void>((r) => (threePolls = r));
    const alive = (h: LockHolder) => {
      if (++polls === 3) threePolls();
      return holderAlive(h);
    };
    const second = acquireLock(env, { command: 'down --purge', wait: true, signal: never, pollMs: 1, alive, onWait: (h) => waited.push(h) }).then((l) => {
      acquired = true;
      return l;
    });
    await polledThrice;
    expect(acquired).toBe(false);
    expect(waited).toHaveLength(1);
    expect(waited[0]).toMatchObject({ pid: process.pid, command: 'up', host: hostname() });
    await first.release();
    const lock = await second;
    expect(acquired).toBe(true);
    expect(await peekLock(env)).toMatchObject({ command: 'down --purge' });
    await lock.release();
  });

  it('a lock left by a process that is gone is taken over, and said so', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true });
    const dead: LockHolder = { pid: deadPid(), command: 'up', since: '2026-11-29T03:00:00.000Z', host: hostname() };
    writeFileSync(lockPath(env), JSON.stringify(dead));
    const stale: LockHolder[] = [];
    const lock = await acquireLock(env, { command: 'up', wait: false, signal: never, onStale: (h) => stale.push(h) });
    expect(stale).toEqual([dead]);
    expect(await peekLock(env)).toMatchObject({ pid: process.pid, command: 'up' });
    await lock.release();
  });

  it('two commands finding the same stale lock: one takes it, the other waits for that one', async () => {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true });
    writeFileSync(lockPath(env), JSON.stringify({ pid: deadPid(), command: 'up', since: '2026-11-29T03:00:00.000Z', host: hostname() }));
    const order: string[] = [];
    // Whoever gets in first stays in until the other has found the lock taken and is waiting: a real overlap.
    let otherWaits!: () => void;
    const otherWaiting = new Promise<void>((r) => (otherWaits = r));
    const take = (name: string) =>
      acquireLock(env, { command: name, wait: true, signal: never, pollMs: 5, onWait: () => otherWaits() }).then(async (l) => {
        order.push(`${name} in`);
        expect((await peekLock(env))?.command).toBe(name);
        await otherWaiting;
        order.push(`${name} out`);
        await l.release();
      });
    await Promise.all([take('a'), take('b')]);
    // Never both inside at once.
    expect([order.slice(0, 2), order.slice(2)]).toEqual([[`${order[0].split(' ')[0]} in`, `${order[0].split(' ')[0]} out`], expect.any(Array)]);
  });

  it('a reused pid (same number, another process start) counts as gone', () => {
    const start = processStart(process.pid);
    if (!start) return console.log('skipped: no /proc here');
    expect(holderAlive({ pid: process.pid, command: 'up', since: '', host: hostname(), procStart: start })).toBe(true);
    expect(holderAlive({ pid: process.pid, command: 'up', since: '', host: hostname(), procStart: String(Number(start) + 1) })).toBe(false);
    expect(holderAlive({ pid: deadPid(), command: 'up', since: '', host: hostname() })).toBe(false);
    expect(holderAlive({ pid: deadPid(), command: 'up', since: '', host: 'another-machine' })).toBe(true);
  });

  it('Ctrl-C while waiting stops with exit 130 and leaves the holder\'s lock alone', async () => {
    const first = await acquireLock(env, { command: 'up', wait: true, signal: never });
    const ctrlC = new AbortController();
    // Ctrl-C while it sleeps between polls (a minute apart): only an abortable wait ends before the test times out.
    const waiting = acquireLock(env, { command: 'down', wait: true, signal: ctrlC.signal, pollMs: 60_000, onWait: () => setImmediate(() => ctrlC.abort()) }).catch((x) => x);
    const e = await waiting;
    expect(e).toMatchObject({ code: 'INTERRUPTED', exitCode: 130 });
    expect(e.why).toContain('`mop-sandbox up`');
    expect(await peekLock(env)).toMatchObject({ command: 'up' });
    await first.release();
  });

  it('release removes only its own lock', async () => {
    const first = await acquireLock(env, { command: 'up', wait: true, signal: never });
    rmSync(lockPath(env));
    const second = await acquireLock(env, { command: 'down', wait: false, signal: never });
    await first.release();
    expect(await peekLock(env)).toMatchObject({ command: 'down' });
    await second.release();
    expect(existsSync(lockPath(env))).toBe(false);
  });
});
