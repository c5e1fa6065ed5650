/**
 * The load generator's schedule: an open loop at `rps` requests per second that catches up on whatever is due
 * at each tick, so the average rate holds even when timers fire late. `now` is injectable for tests.
 */
export function createPacer(rps, now = Date.now) {
  const started = now();
  let scheduled = 0;
  /** How many requests to send now. */
  return function due() {
    const total = Math.floor(((now() - started) / 1000) * rps);
    const n = Math.max(0, total - scheduled);
    scheduled += n;
    return n;
  };
}
