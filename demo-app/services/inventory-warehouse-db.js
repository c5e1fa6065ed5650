/**
 * The inventory service's simulated warehouse database. Each query is a CLIENT span with database attributes
 * (and peer.service), so Tempo's service graph shows "warehouse-db" as a node after inventory.
 * Fault scenario: slow-dependency (every query delayMs slower).
 */
import { SpanKind } from '@opentelemetry/api';

/**
 * @param {{ tracer: import('@opentelemetry/api').Tracer, sim: import('../lib/simulate.js').Simulation,
 *   scenarios: Pick<import('../lib/scenario-state.js').ScenarioState, 'params'> }} deps
 * @returns {<T>(operation: string, collection: string, run?: () => T) => Promise<T>}
 */
export function createWarehouseDb({ tracer, sim, scenarios }) {
  return function query(operation, collection, run = () => undefined) {
    const attributes = {
      'db.system.name': 'postgresql',
      'db.namespace': 'warehouse',
      'db.collection.name': collection,
      'db.operation.name': operation,
      'db.query.summary': `${operation} ${collection}`,
      'server.address': 'warehouse-db',
      'server.port': 5432,
      'peer.service': 'warehouse-db',
    };
    return tracer.startActiveSpan(`${operation} ${collection}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        await sim.work(1, 6);
        const slow = scenarios.params('slow-dependency');
        if (slow) await sim.sleep(slow.delayMs);
        return run();
      } finally {
        span.end();
      }
    });
  };
}
