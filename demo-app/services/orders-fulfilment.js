/**
 * The orders service's background worker: paid orders wait in an in-memory queue and are shipped
 * asynchronously. The trace context travels with each job, so the consumer span (and the shipment call it
 * makes to inventory) lands in the same trace as the checkout that produced it.
 */
import { context, metrics, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';

const MESSAGING = { 'messaging.system': 'in_memory', 'messaging.destination.name': 'fulfilment' };
const MAX_ATTEMPTS = 3;

/**
 * @param {{ tracer: import('@opentelemetry/api').Tracer, log: any, inventory: ReturnType<typeof import('../lib/http-client.js').createClient>,
 *   onShipped: (orderId: string, shipment: any) => void, intervalMs?: number }} deps
 */
export function createFulfilment({ tracer, log, inventory, onShipped, intervalMs = 250 }) {
  const queue = [];
  const meter = metrics.getMeter('mop-demo');
  const fulfilled = meter.createCounter('orders.fulfilled', { unit: '{order}', description: 'Orders shipped by the fulfilment worker' });
  meter
    .createObservableGauge('orders.queue.depth', { unit: '{order}', description: 'Paid orders waiting for the fulfilment worker' })
    .addCallback((result) => result.observe(queue.length));

  /** Called inside the checkout request. */
  function enqueue(order) {
    tracer.startActiveSpan('fulfilment publish', { kind: SpanKind.PRODUCER, attributes: { ...MESSAGING, 'messaging.operation.type': 'send', 'order.id': order.id } }, (span) => {
      const carrier = {};
      propagation.inject(context.active(), carrier);
      queue.push({ order, carrier, attempts: 0 });
      span.end();
    });
  }

  function processJob(job) {
    const parent = propagation.extract(ROOT_CONTEXT, job.carrier);
    const attributes = { ...MESSAGING, 'messaging.operation.type': 'process', 'order.id': job.order.id, 'fulfilment.attempt': job.attempts + 1 };
    return tracer.startActiveSpan('fulfilment process', { kind: SpanKind.CONSUMER, attributes }, parent, async (span) => {
      try {
        const res = await inventory.request('POST', '/shipments', { orderId: job.order.id, reservationId: job.order.reservationId, items: job.order.items });
        if (res.status !== 201) throw new Error(`inventory answered ${res.status}: ${res.body.error ?? ''}`);
        onShipped(job.order.id, res.body);
        fulfilled.add(1);
        log.info('order fulfilled', { 'order.id': job.order.id, 'shipment.id': res.body.shipmentId, carrier: res.body.carrier });
      } catch (err) {
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        job.attempts += 1;
        if (job.attempts < MAX_ATTEMPTS) {
          queue.push(job);
          log.warn('fulfilment failed, will retry', { 'order.id': job.order.id, 'error.message': err.message, 'fulfilment.attempt': job.attempts });
        } else {
          log.error('fulfilment gave up', { 'order.id': job.order.id, 'error.message': err.message });
        }
      } finally {
        span.end();
      }
    });
  }

  let busy = false;
  const timer = setInterval(async () => {
    if (busy || queue.length === 0) return;
    busy = true;
    try {
      await Promise.all(queue.splice(0, 10).map(processJob));
    } finally {
      busy = false;
    }
  }, intervalMs);
  timer.unref();

  return { enqueue, depth: () => queue.length };
}
