/**
 * The fault scenarios: which service each one affects and which parameters it takes.
 * Single source for the control API (validation, `GET /scenarios`) and the services (defaults).
 * What a user sees in Grafana for each one is in ../SCENARIOS.md.
 */

/** @typedef {{ default: number, min: number, max: number, unit: string, help: string }} ParamSpec */
/** @typedef {{ service: string, summary: string, params: Record<string, ParamSpec> }} ScenarioSpec */

/** @type {Record<string, ScenarioSpec>} */
export const scenarios = {
  'latency-spike': {
    service: 'payments',
    summary: 'payments authorizes every charge delayMs more slowly',
    params: { delayMs: { default: 1500, min: 0, max: 60_000, unit: 'ms', help: 'extra time added to each charge' } },
  },
  'error-burst': {
    service: 'payments',
    summary: 'payments fails a fraction of charges with 503 (card processor unavailable)',
    params: { rate: { default: 0.5, min: 0, max: 1, unit: 'fraction', help: 'share of charges that fail, 0..1, evenly spread' } },
  },
  'slow-dependency': {
    service: 'inventory',
    summary: "inventory's warehouse database answers every query delayMs more slowly",
    params: { delayMs: { default: 800, min: 0, max: 60_000, unit: 'ms', help: 'extra time added to each database query' } },
  },
  'log-flood': {
    service: 'inventory',
    summary: 'inventory writes warning logs from a stock-cache resync loop',
    params: { rate: { default: 200, min: 1, max: 5_000, unit: 'lines/s', help: 'log lines per second' } },
  },
  'memory-growth': {
    service: 'orders',
    summary: 'orders keeps order snapshots in a cache that is never evicted (heap grows until stop, capped at 768 MiB)',
    params: { rate: { default: 20, min: 1, max: 6_000, unit: 'MiB/min', help: 'heap growth per minute' } },
  },
};

/** Parameters every scenario accepts. */
export const commonParams = {
  durationS: { default: 0, min: 0, max: 86_400, unit: 's', help: 'stop automatically after this many seconds (0: run until stopped)' },
};

/**
 * Checks a start request's parameters against the spec and fills in defaults.
 * @returns {{ ok: true, params: Record<string, number> } | { ok: false, error: string }}
 */
export function resolveParams(name, input = {}) {
  const spec = scenarios[name];
  const all = { ...spec.params, ...commonParams };
  const params = {};
  for (const key of Object.keys(input)) {
    if (input[key] === undefined || input[key] === null) continue;
    if (!(key in all)) return { ok: false, error: `scenario "${name}" has no parameter "${key}" (it takes: ${Object.keys(all).join(', ')})` };
  }
  for (const [key, p] of Object.entries(all)) {
    const raw = input[key] ?? p.default;
    const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < p.min || value > p.max) {
      return { ok: false, error: `${key} must be a number from ${p.min} to ${p.max} (${p.unit}: ${p.help}), got ${JSON.stringify(raw)}` };
    }
    params[key] = value;
  }
  return { ok: true, params };
}
