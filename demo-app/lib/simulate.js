/**
 * Simulated work. DEMO_WORK_SCALE multiplies the built-in latencies (0 turns them off, as the benchmark does);
 * delays injected by fault scenarios are not scaled.
 */
import { setTimeout as sleep } from 'node:timers/promises';

const scale = Number(process.env.DEMO_WORK_SCALE ?? 1);

export { sleep };

/** Waits a random time between minMs and maxMs, times DEMO_WORK_SCALE. */
export function work(minMs, maxMs) {
  const ms = (minMs + Math.random() * (maxMs - minMs)) * scale;
  return ms > 0 ? sleep(ms) : Promise.resolve();
}

export function chance(probability) {
  return Math.random() < probability;
}

export function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}
