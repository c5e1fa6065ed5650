/**
 * Time for the demo's simulated work, fault scenarios and scenario timers. Services and the launcher use the real
 * one; tests pass a manual clock (test/support/manual-clock.ts) with the same shape and drive time themselves, so
 * a fault's effect (a delay, a log rate, heap growth) is asserted exactly instead of measured on a busy machine.
 *
 * @typedef {{
 *   now(): number,
 *   sleep(ms: number): Promise<void>,
 *   setTimeout(fn: () => void, ms: number): unknown,
 *   clearTimeout(handle: unknown): void,
 *   setInterval(fn: () => void, ms: number): unknown,
 *   clearInterval(handle: unknown): void,
 * }} Clock
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** @type {Clock} */
export const realClock = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
  // Scenario and registry timers must never keep a stopping process alive.
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(/** @type {NodeJS.Timeout} */ (handle)),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(/** @type {NodeJS.Timeout} */ (handle)),
};
