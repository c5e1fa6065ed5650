/**
 * Runs the checks as a graph: each starts once every check it needs has passed (independent ones run at once),
 * retries a failed attempt every `intervalMs` until its timeout or the overall deadline, and is skipped when a
 * check it needs failed. Time comes from the injected clock, so tests run retries and timeouts without sleeping.
 */
import type { Attempt, Check, CheckResult, Clock, VerifyContext } from './check.js';

export interface RunOptions {
  checks: Check[];
  ctx: Omit<VerifyContext, 'value'>;
  /** Absolute deadline (clock ms) for everything. */
  deadline: number;
  intervalMs?: number;
  onStart?(check: Check): void;
  onEnd?(result: CheckResult): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    }),
};

export async function runChecks(opts: RunOptions): Promise<CheckResult[]> {
  const { clock, signal } = opts.ctx;
  const interval = opts.intervalMs ?? 500;
  const values = new Map<string, unknown>();
  const ctx: VerifyContext = {
    ...opts.ctx,
    value<T>(id: string): T {
      if (!values.has(id)) throw new Error(`verify check "${id}" has no value (is it in needs?)`);
      return values.get(id) as T;
    },
  };
  const byId = new Map(opts.checks.map((c) => [c.id, c]));
  for (const c of opts.checks) for (const n of c.needs) if (!byId.has(n)) throw new Error(`verify check "${c.id}" needs unknown check "${n}"`);
  const running = new Map<string, Promise<CheckResult>>();

  const run = (check: Check): Promise<CheckResult> => {
    const existing = running.get(check.id);
    if (existing) return existing;
    const p = (async (): Promise<CheckResult> => {
      const needed = await Promise.all(check.needs.map((n) => run(byId.get(n)!)));
      const base = { id: check.id, stage: check.stage, title: check.title, wait: check.wait };
      const blocked = needed.filter((r) => r.status !== 'pass');
      if (blocked.length) {
        const r: CheckResult = { ...base, status: 'skip', seconds: 0, attempts: 0, detail: `skipped: needs ${blocked.map((b) => b.id).join(', ')}` };
        opts.onEnd?.(r);
        return r;
      }
      opts.onStart?.(check);
      const started = clock.now();
      const until = Math.min(started + check.timeoutMs, opts.deadline);
      let attempts = 0;
      let last: Attempt;
      for (;;) {
        if (signal.aborted) throw signal.reason ?? new Error('interrupted');
        attempts++;
        try {
          last = await check.run(ctx);
        } catch (e) {
          if (signal.aborted) throw signal.reason ?? e;
          last = { ok: false, expected: 'the check to run', got: `error: ${(e as Error).message}`, final: true };
        }
        if (last.ok || last.final || clock.now() + interval > until) break;
        await clock.sleep(interval, signal);
      }
      const seconds = (clock.now() - started) / 1000;
      let r: CheckResult;
      if (last.ok) {
        values.set(check.id, last.value);
        r = { ...base, status: 'pass', seconds, attempts, detail: last.detail };
      } else {
        const timedOut = !last.final;
        r = {
          ...base,
          status: 'fail',
          seconds,
          attempts,
          detail: `expected ${last.expected}; got ${last.got}${timedOut && attempts > 1 ? ` (still so after ${seconds.toFixed(1)}s, ${attempts} tries)` : ''}`,
          expected: last.expected,
          got: last.got,
        };
      }
      opts.onEnd?.(r);
      return r;
    })();
    running.set(check.id, p);
    return p;
  };

  const results = await Promise.all(opts.checks.map(run));
  return results;
}

/** The check that waited longest on a backend-imposed wait (it had to retry), for the closing line. */
export function dominantWait(results: CheckResult[]): CheckResult | undefined {
  return results.filter((r) => r.wait && r.status !== 'skip' && r.attempts > 1).sort((a, b) => b.seconds - a.seconds)[0];
}
