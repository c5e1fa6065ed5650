/**
 * A clock a test drives by hand, with the shape of demo-app/lib/clock.js: nothing happens until `advance`, which
 * moves time to each due timer in order and lets the code it woke run (its promise chains settle) before going on.
 * So "300 lines a second for one second" is exactly 300 lines, whatever the machine is doing.
 */
interface Timer {
  id: number;
  at: number;
  fn: () => void;
  every?: number;
}

export interface ManualClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  setTimeout(fn: () => void, ms: number): number;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): number;
  clearInterval(handle: unknown): void;
  /** Moves time forward by ms, firing every timer due on the way, in order. */
  advance(ms: number): Promise<void>;
  /** Timers still waiting. */
  pending(): number;
}

/** Lets every promise chain the fired timers started run to its next wait on the clock. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

export function manualClock(start = 1_700_000_000_000): ManualClock {
  let t = start;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  const add = (fn: () => void, ms: number, every?: number) => {
    const id = nextId++;
    timers.set(id, { id, at: t + Math.max(0, ms), fn, every });
    return id;
  };
  const remove = (handle: unknown) => void timers.delete(handle as number);

  return {
    now: () => t,
    sleep: (ms) => new Promise<void>((resolve) => add(resolve, ms)),
    setTimeout: (fn, ms) => add(fn, ms),
    clearTimeout: remove,
    setInterval: (fn, ms) => {
      if (!(ms > 0)) throw new Error(`an interval needs a positive period, got ${ms}`);
      return add(fn, ms, ms);
    },
    clearInterval: remove,
    async advance(ms) {
      const end = t + ms;
      await settle();
      for (;;) {
        // Earliest first; among equal times, the one set first.
        const due = [...timers.values()].filter((x) => x.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        t = due.at;
        if (due.every) due.at += due.every;
        else timers.delete(due.id);
        due.fn();
        await settle();
      }
      t = end;
      await settle();
    },
    pending: () => timers.size,
  };
}
