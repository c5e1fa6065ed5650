/** The check runner: retries on a fake clock, timeouts, the overall deadline, skipping, and the dominant wait. */
import { describe, expect, it } from 'vitest';
import type { Attempt, Check, Clock } from '../../scripts/verify/check.js';
import { dominantWait, runChecks } from '../../scripts/verify/runner.js';

function clock(start = 1_000_000): Clock & { slept: number[] } {
  let t = start;
  return {
    slept: [],
    now: () => t,
    async sleep(ms) {
      this.slept.push(ms);
      t += ms;
    },
  };
}

const check = (id: string, attempts: Attempt[], extra: Partial<Check> = {}): Check & { calls: number } => {
  const c: Check & { calls: number } = {
    id,
    stage: 'backends' as const,
    title: id,
    needs: [],
    timeoutMs: 10_000,
    calls: 0,
    async run(): Promise<Attempt> {
      return attempts[Math.min(c.calls++, attempts.length - 1)];
    },
    ...extra,
  };
  return c;
};

const ctx = (c: Clock) => ({ stack: {} as any, clients: {} as any, telemetry: {} as any, clock: c, signal: new AbortController().signal, provisioned: { datasources: [], dashboards: [] } });
const notYet: Attempt = { ok: false, expected: 'x', got: 'nothing' };

describe('verify runner', () => {
  it('retries a check until it passes, sleeping on the clock between tries', async () => {
    const c = clock();
    const a = check('a', [notYet, notYet, { ok: true, detail: 'found' }]);
    const [r] = await runChecks({ checks: [a], ctx: ctx(c), deadline: c.now() + 60_000, intervalMs: 1_000 });
    expect(r).toMatchObject({ status: 'pass', attempts: 3, seconds: 2, detail: 'found' });
    expect(c.slept).toEqual([1_000, 1_000]);
  });

  it('gives up at the check timeout and says what it expected, what came back, and for how long', async () => {
    const c = clock();
    const [r] = await runChecks({ checks: [check('a', [notYet])], ctx: ctx(c), deadline: c.now() + 60_000, intervalMs: 1_000 });
    expect(r.status).toBe('fail');
    expect(r.attempts).toBe(11);
    expect(r.detail).toBe('expected x; got nothing (still so after 10.0s, 11 tries)');
  });

  it('the overall deadline cuts a longer check timeout short', async () => {
    const c = clock();
    const [r] = await runChecks({ checks: [check('a', [notYet], { timeoutMs: 60_000 })], ctx: ctx(c), deadline: c.now() + 3_000, intervalMs: 1_000 });
    expect(r).toMatchObject({ status: 'fail', attempts: 4, seconds: 3 });
  });

  it('a final failure is not retried; checks that need it are skipped and say so', async () => {
    const c = clock();
    const a = check('a', [{ ok: false, expected: 'y', got: 'HTTP 401', final: true }]);
    const b = check('b', [{ ok: true, detail: 'never runs' }], { needs: ['a'] });
    const results = await runChecks({ checks: [a, b], ctx: ctx(c), deadline: c.now() + 60_000 });
    expect(results.map((r) => r.status)).toEqual(['fail', 'skip']);
    expect(results[1].detail).toBe('skipped: needs a');
    expect(a.calls + b.calls).toBe(1);
    expect(c.slept).toEqual([]);
  });

  it('passes values to the checks that need them, and names the longest backend-imposed wait', async () => {
    const c = clock();
    const a = check('a', [{ ok: true, detail: 'a', value: 42 }]);
    let seen: unknown;
    const b: Check = { id: 'b', stage: 'correlation', title: 'b', needs: ['a'], timeoutMs: 30_000, wait: 'collection interval', async run(v) {
      seen = v.value('a');
      return c.now() - 1_000_000 >= 15_000 ? { ok: true, detail: 'series' } : notYet;
    } };
    const results = await runChecks({ checks: [a, b], ctx: ctx(c), deadline: c.now() + 60_000, intervalMs: 5_000 });
    expect(seen).toBe(42);
    expect(dominantWait(results)).toMatchObject({ id: 'b', seconds: 15, wait: 'collection interval' });
  });

  it('refuses a check that needs an unknown check', async () => {
    const c = clock();
    await expect(runChecks({ checks: [check('a', [notYet], { needs: ['nope'] })], ctx: ctx(c), deadline: c.now() })).rejects.toThrow('needs unknown check "nope"');
  });
});
