/**
 * orders: places orders (reserve stock at inventory, charge at payments) and hands paid orders to its
 * background fulfilment worker. Fault scenario: memory-growth.
 */
import { randomUUID } from 'node:crypto';
import { metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { HttpError } from '../lib/http-server.js';
import { createClient } from '../lib/http-client.js';
import { serviceTelemetry, startService } from '../lib/service.js';
import { scenarioState } from '../lib/scenario-state.js';
import { serviceUrl } from '../lib/topology.js';
import { simulation } from '../lib/simulate.js';
import { createFulfilment } from './orders-fulfilment.js';
import { installSnapshotCacheLeak } from './orders-snapshot-cache.js';

const { log, tracer } = serviceTelemetry('orders');
const inventory = createClient(serviceUrl('inventory'));
const payments = createClient(serviceUrl('payments'));
const ordersPlaced = metrics.getMeter('mop-demo').createCounter('shop.orders', {
  unit: '{order}',
  description: 'Orders by final status (accepted, rejected, declined, failed)',
});

const orders = new Map();
const MAX_KEPT = 5_000;

const fulfilment = createFulfilment({
  tracer,
  log,
  inventory,
  onShipped(orderId, shipment) {
    const order = orders.get(orderId);
    if (order) Object.assign(order, { status: 'shipped', shipmentId: shipment.shipmentId, carrier: shipment.carrier });
  },
});
installSnapshotCacheLeak({ tracer, log, sim: simulation, scenarios: scenarioState });

function remember(order) {
  orders.set(order.id, order);
  if (orders.size > MAX_KEPT) orders.delete(orders.keys().next().value);
}

function finish(status, httpStatus, message, extra = {}) {
  ordersPlaced.add(1, { status });
  trace.getActiveSpan()?.setAttribute('order.status', status);
  throw new HttpError(httpStatus, message, { status, ...extra });
}

async function releaseQuietly(reservationId, orderId) {
  try {
    await inventory.request('POST', `/reservations/${reservationId}/release`);
  } catch (err) {
    log.warn('could not release reservation', { 'order.id': orderId, 'reservation.id': reservationId, 'error.message': err.message });
  }
}

async function placeOrder({ customerId, items }, span) {
  const id = randomUUID();
  span.setAttributes({ 'order.id': id, 'customer.id': customerId, 'order.item_count': items.length });
  await simulation.work(1, 4); // validation and pricing rules

  let reservation;
  try {
    reservation = await inventory.request('POST', '/reservations', { orderId: id, items });
  } catch (err) {
    log.error('inventory unreachable', { 'order.id': id, 'error.message': err.message });
    finish('failed', 502, 'inventory unavailable');
  }
  if (reservation.status === 409) {
    log.warn('order rejected: out of stock', { 'order.id': id, sku: reservation.body.sku });
    finish('rejected', 409, reservation.body.error ?? 'out of stock', { orderId: id });
  }
  if (reservation.status !== 201) finish('failed', 502, `inventory answered ${reservation.status}`, { orderId: id });
  const { reservationId, total, currency } = reservation.body;
  span.setAttribute('order.total', total);

  let charge;
  try {
    charge = await payments.request('POST', '/charges', { orderId: id, amount: total, currency, customerId });
  } catch (err) {
    charge = { status: 0, body: { error: err.message } };
  }
  if (charge.status !== 201) {
    await releaseQuietly(reservationId, id);
    if (charge.status === 402) {
      log.warn('order declined: payment refused', { 'order.id': id, 'order.total': total });
      finish('declined', 402, 'payment declined', { orderId: id });
    }
    log.error('order failed: payment error', { 'order.id': id, 'http.response.status_code': charge.status, 'error.message': charge.body.error });
    finish('failed', 502, 'payment service unavailable', { orderId: id });
  }

  const order = { id, customerId, items, total, currency, reservationId, paymentId: charge.body.paymentId, status: 'paid', createdAt: new Date().toISOString() };
  remember(order);
  fulfilment.enqueue(order);
  ordersPlaced.add(1, { status: 'accepted' });
  span.setAttribute('order.status', 'accepted');
  log.info('order placed', { 'order.id': id, 'order.total': total, 'payment.id': order.paymentId });
  return order;
}

const routes = {
  'POST /orders': ({ body }) => {
    const items = Array.isArray(body.items) ? body.items : [];
    if (items.length === 0) throw new HttpError(400, 'an order needs at least one item');
    return tracer.startActiveSpan('orders.place', async (span) => {
      try {
        const order = await placeOrder({ customerId: body.customerId ?? 'anonymous', items }, span);
        return { status: 201, body: order };
      } catch (err) {
        if (!(err instanceof HttpError) || err.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        throw err;
      } finally {
        span.end();
      }
    });
  },

  'GET /orders/:id': async ({ params }) => {
    const order = orders.get(params.id);
    if (!order) throw new HttpError(404, `unknown order ${params.id}`);
    return { body: order };
  },
};

await startService('orders', { log, tracer }, routes);
