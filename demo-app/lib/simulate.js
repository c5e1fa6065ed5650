/**
 * Simulated work on a clock and a random source. DEMO_WORK_SCALE multiplies the built-in latencies (0 turns them
 * off, as the benchmark does); delays injected by fault scenarios are not scaled. Services use `simulation`
 * (real clock, Math.random); tests build their own with createSimulation.
 */
import { realClock } from './clock.js';

/**
 * @param {{ clock?: import('./clock.js').Clock, random?: () => number, scale?: number }} [deps]
 */
export function createSimulation({ clock = realClock, random = Math.random, scale = Number(process.env.DEMO_WORK_SCALE ?? 1) } = {}) {
  return {
    clock,
    random,
    /** Waits exactly ms (a fault's delay). */
    sleep: (ms) => clock.sleep(ms),
    /** Waits a random time between minMs and maxMs, times the scale. */
    work(minMs, maxMs) {
      const ms = (minMs + random() * (maxMs - minMs)) * scale;
      return ms > 0 ? clock.sleep(ms) : Promise.resolve();
    },
    chance: (probability) => random() < probability,
    pick: (list) => list[Math.floor(random() * list.length)],
  };
}

/** @typedef {ReturnType<typeof createSimulation>} Simulation */

export const simulation = createSimulation();
