/**
 * The log-flood scenario: a stock-cache resync loop that warns about every stale cache entry, `rate` lines per
 * second. Every 100 ms tick writes what is due since the start, so the average holds when a tick fires late.
 */
const TICK_MS = 100;

/**
 * @param {{ tracer: import('@opentelemetry/api').Tracer, log: any, sim: import('../lib/simulate.js').Simulation,
 *   scenarios: Pick<import('../lib/scenario-state.js').ScenarioState, 'onChange'>, skus: string[] }} deps
 */
export function installLogFlood({ tracer, log, sim, scenarios, skus }) {
  const { clock } = sim;
  let flood;
  scenarios.onChange((name, params) => {
    if (name !== 'log-flood') return;
    clock.clearInterval(flood);
    flood = undefined;
    if (!params) return;
    const started = clock.now();
    let written = 0;
    flood = clock.setInterval(() => {
      const due = Math.floor(((clock.now() - started) / 1000) * params.rate) - written;
      if (due <= 0) return;
      tracer.startActiveSpan('inventory.cache.resync', (span) => {
        for (let i = 0; i < due; i++) {
          log.warn('stock cache entry stale, refetching from warehouse', { sku: sim.pick(skus), 'cache.age_ms': 30_000 + Math.floor(sim.random() * 5_000) });
        }
        span.setAttribute('inventory.cache.stale_entries', due);
        span.end();
      });
      written += due;
    }, TICK_MS);
  });
}
