/**
 * Waiting for every component at once: each tick observes all pending components (one snapshot), records the
 * time to ready of each as it becomes ready, stops at the first component that failed (exited, crash loop), and
 * stops when the deadline passes. Runtime-neutral: the runtime supplies `observe`.
 */
import type { ComponentName } from '../stack/model.js';
import { GATEWAY_UPSTREAM_ERROR } from '../stack/gateway.js';
import type { ReadyTimes } from './runtime.js';
import { sleep } from '../lib/sleep.js';

export type Observation =
  | { kind: 'ready' }
  | { kind: 'waiting'; detail: string; /** The component itself is running (not waiting for a dependency). */ started?: boolean }
  | { kind: 'failed'; reason: string; exitCode?: number };

export class NotReady extends Error {
  constructor(
    /** The components at fault (the failed one, or those still starting at the deadline). */
    readonly components: ComponentName[],
    readonly reason: 'failed' | 'timeout' | 'external',
    readonly detail: string,
    readonly exitCode?: number,
  ) {
    super(`${components.join(', ')}: ${detail}`);
    this.name = 'NotReady';
  }
}

export interface WaitOptions {
  components: ComponentName[];
  /** One snapshot of the pending components. */
  observe(pending: ComponentName[]): Promise<Map<ComponentName, Observation>>;
  /** Epoch ms the clock started (times to ready are measured from here). */
  startedAt: number;
  timeoutMs: number;
  intervalMs?: number;
  signal: AbortSignal;
  /** Called when a component's waiting detail changes. */
  onWaiting?(name: ComponentName, detail: string): void;
  onReady?(name: ComponentName, seconds: number): void;
  /** An error from outside the components (the start command failed); reported when no component explains it. */
  external?(): Error | undefined;
  now?(): number;
}

export async function waitForReady(opts: WaitOptions): Promise<ReadyTimes> {
  const now = opts.now ?? Date.now;
  const interval = opts.intervalMs ?? 250;
  const ready: ReadyTimes = {};
  const lastDetail = new Map<ComponentName, string>();
  const started = new Set<ComponentName>();
  let pending = [...opts.components];
  let externalSeen = 0;
  while (pending.length) {
    if (opts.signal.aborted) throw opts.signal.reason ?? new Error('aborted');
    const external = opts.external?.();
    const snapshot = await opts.observe(pending);
    if (opts.signal.aborted) throw opts.signal.reason ?? new Error('aborted');
    const at = now();
    for (const name of pending) {
      const o = snapshot.get(name) ?? { kind: 'waiting', detail: 'not created yet' };
      if (o.kind === 'ready') {
        ready[name] = Math.max(0, (at - opts.startedAt) / 1000);
        opts.onReady?.(name, ready[name]);
      } else if (o.kind === 'failed') {
        throw new NotReady([name], 'failed', o.reason, o.exitCode);
      } else {
        if (o.started) started.add(name);
        if (lastDetail.get(name) !== o.detail) {
          lastDetail.set(name, o.detail);
          opts.onWaiting?.(name, o.detail);
        }
      }
    }
    pending = pending.filter((n) => !(n in ready));
    if (!pending.length) break;
    // The start command failed and one more look found no component to blame: report the command's error.
    if (external && ++externalSeen > 1) throw new NotReady(pending, 'external', external.message);
    if (at - opts.startedAt >= opts.timeoutMs) {
      const culprits = pending.filter((n) => started.has(n));
      const blamed = culprits.length ? culprits : pending;
      const detail = blamed.map((n) => `${n}: ${lastDetail.get(n) ?? 'not started'}`).join('; ');
      throw new NotReady(blamed, 'timeout', `not ready after ${opts.timeoutMs < 10_000 ? Number((opts.timeoutMs / 1000).toFixed(1)) : Math.round(opts.timeoutMs / 1000)}s (${detail})`);
    }
    await sleep(interval, opts.signal);
  }
  return ready;
}

/** A connection error code as a probe reports it. */
function connectError(code: string): string {
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  return code;
}

/** Probes an HTTP readiness endpoint: the status code, or an error string ("connection refused"). */
export async function httpProbe(url: string, timeoutMs = 2000): Promise<{ status?: number; error?: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    // Through the gateway (a fronted port): its 502 names why the backend behind it did not answer.
    const behind = res.status === 502 ? res.headers.get(GATEWAY_UPSTREAM_ERROR) : null;
    if (behind) return { error: connectError(behind) };
    return { status: res.status };
  } catch (e) {
    const cause = (e as { cause?: NodeJS.ErrnoException }).cause;
    if ((e as Error).name === 'TimeoutError') return { error: `no answer within ${Number((timeoutMs / 1000).toFixed(1))}s` };
    return { error: cause?.code ? connectError(cause.code) : (e as Error).message };
  }
}
