/**
 * Which fault scenarios are on, with their parameters and optional end time. Every change is passed to
 * `onChange` with the full active set, which the launcher forwards to the services.
 */
import { resolveParams, scenarios } from '../lib/scenarios.js';
import { realClock } from '../lib/clock.js';
import { launcherLog } from './log.js';

/** @param {{ onChange: (active: Record<string, Record<string, number>>) => void, clock?: import('../lib/clock.js').Clock }} hooks */
export function createScenarioRegistry({ onChange, clock = realClock }) {
  /** @type {Map<string, { params: Record<string, number>, startedAt: string, endsAt?: string, timer?: unknown }>} */
  const active = new Map();

  const snapshot = () => Object.fromEntries([...active].map(([name, a]) => [name, a.params]));
  const changed = () => onChange(snapshot());

  function stopOne(name) {
    const entry = active.get(name);
    if (!entry) return false;
    clock.clearTimeout(entry.timer);
    active.delete(name);
    launcherLog('info', 'scenario stopped', { scenario: name });
    return true;
  }

  return {
    snapshot,

    has: (name) => Object.hasOwn(scenarios, name),

    list() {
      return Object.entries(scenarios).map(([name, spec]) => {
        const a = active.get(name);
        return { name, service: spec.service, summary: spec.summary, params: spec.params, active: Boolean(a), ...(a ? { activeParams: a.params, startedAt: a.startedAt, endsAt: a.endsAt } : {}) };
      });
    },

    /** @returns {{ ok: true, scenario: object, error?: undefined } | { ok: false, error: string }} */
    start(name, input) {
      const resolved = resolveParams(name, input);
      if (!resolved.ok) return resolved;
      const { params } = resolved;
      clock.clearTimeout(active.get(name)?.timer);
      const now = clock.now();
      const entry = { params, startedAt: new Date(now).toISOString() };
      if (params.durationS > 0) {
        entry.endsAt = new Date(now + params.durationS * 1000).toISOString();
        entry.timer = clock.setTimeout(() => stopOne(name) && changed(), params.durationS * 1000);
      }
      active.set(name, entry);
      launcherLog('info', 'scenario started', { scenario: name, ...params });
      changed();
      return { ok: true, scenario: { name, service: scenarios[name].service, params, startedAt: entry.startedAt, endsAt: entry.endsAt } };
    },

    /** Stops one scenario, or all when name is undefined; returns the names stopped. */
    stop(name) {
      const names = name === undefined ? [...active.keys()] : [name];
      const stopped = names.filter(stopOne);
      if (stopped.length) changed();
      return stopped;
    },
  };
}
