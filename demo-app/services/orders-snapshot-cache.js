/**
 * The memory-growth scenario: an "order snapshot cache" that is filled every second and never evicted,
 * so the orders heap (demo_process_heap_used_bytes) climbs at `rate` MiB per minute until the scenario stops.
 */
import { onScenarioChange } from '../lib/scenario-state.js';

const MIB = 1024 * 1024;
const CAP_MIB = 768;
const CHUNK = 64 * 1024;
const DOUBLES_PER_CHUNK = CHUNK / 8;

export function installSnapshotCacheLeak({ tracer, log }) {
  const cache = [];
  let retainedMib = 0;
  let timer;

  const grow = (mibPerMinute, startedAt) =>
    tracer.startActiveSpan('orders.snapshot_cache.fill', (span) => {
      const target = Math.min(CAP_MIB, ((Date.now() - startedAt) / 60_000 + 1 / 60) * mibPerMinute);
      const chunks = Math.floor(((target - retainedMib) * MIB) / CHUNK);
      // A plain array of doubles is 8 bytes per element on the V8 heap. (Buffers and typed arrays live outside
      // it, and repeated strings are shared cons strings, so neither would move heapUsed.)
      for (let i = 0; i < chunks; i++) cache.push(new Array(DOUBLES_PER_CHUNK).fill(Math.random()));
      retainedMib += (chunks * CHUNK) / MIB;
      span.setAttributes({ 'cache.entries': cache.length, 'cache.retained_mib': Math.round(retainedMib) });
      log.warn('order snapshot cache grew', { 'cache.entries': cache.length, 'cache.retained_mib': Math.round(retainedMib), 'cache.cap_mib': CAP_MIB });
      span.end();
    });

  onScenarioChange((name, params) => {
    if (name !== 'memory-growth') return;
    clearInterval(timer);
    cache.length = 0;
    retainedMib = 0;
    if (!params) return;
    const startedAt = Date.now();
    timer = setInterval(() => grow(params.rate, startedAt), 1_000);
    grow(params.rate, startedAt);
  });
}
