/**
 * The memory-growth scenario: an "order snapshot cache" that is filled every second and never evicted,
 * so the orders heap (demo_process_heap_used_bytes) climbs at `rate` MiB per minute until the scenario stops.
 */
const MIB = 1024 * 1024;
export const CAP_MIB = 768;
const CHUNK = 64 * 1024;
const DOUBLES_PER_CHUNK = CHUNK / 8;
const FILL_EVERY_MS = 1_000;

/**
 * @param {{ tracer: import('@opentelemetry/api').Tracer, log: any, sim: import('../lib/simulate.js').Simulation,
 *   scenarios: Pick<import('../lib/scenario-state.js').ScenarioState, 'onChange'> }} deps
 */
export function installSnapshotCacheLeak({ tracer, log, sim, scenarios }) {
  const { clock } = sim;
  const cache = [];
  let retainedMib = 0;
  let timer;

  // Each fill tops the cache up to what is due one tick ahead, so the heap is at the rate from the first second.
  const grow = (mibPerMinute, startedAt) =>
    tracer.startActiveSpan('orders.snapshot_cache.fill', (span) => {
      const target = Math.min(CAP_MIB, ((clock.now() - startedAt + FILL_EVERY_MS) / 60_000) * mibPerMinute);
      const chunks = Math.floor(((target - retainedMib) * MIB) / CHUNK);
      // A plain array of doubles is 8 bytes per element on the V8 heap. (Buffers and typed arrays live outside
      // it, and repeated strings are shared cons strings, so neither would move heapUsed.)
      for (let i = 0; i < chunks; i++) cache.push(new Array(DOUBLES_PER_CHUNK).fill(sim.random()));
      retainedMib += (chunks * CHUNK) / MIB;
      span.setAttributes({ 'cache.entries': cache.length, 'cache.retained_mib': Math.round(retainedMib) });
      log.warn('order snapshot cache grew', { 'cache.entries': cache.length, 'cache.retained_mib': Math.round(retainedMib), 'cache.cap_mib': CAP_MIB });
      span.end();
    });

  scenarios.onChange((name, params) => {
    if (name !== 'memory-growth') return;
    clock.clearInterval(timer);
    cache.length = 0;
    retainedMib = 0;
    if (!params) return;
    const startedAt = clock.now();
    timer = clock.setInterval(() => grow(params.rate, startedAt), FILL_EVERY_MS);
    grow(params.rate, startedAt);
  });

  /** What the cache holds, in MiB of chunks (each entry CHUNK bytes of doubles). */
  return { retainedMib: () => retainedMib, entries: () => cache.length };
}
