/**
 * inventory: product catalog, stock reservations and shipments, backed by a simulated warehouse database.
 * Fault scenarios: slow-dependency (./inventory-warehouse-db.js), log-flood (./inventory-log-flood.js).
 */
import { randomUUID } from 'node:crypto';
import { HttpError } from '../lib/http-server.js';
import { serviceTelemetry, startService } from '../lib/service.js';
import { scenarioState } from '../lib/scenario-state.js';
import { simulation } from '../lib/simulate.js';
import { installLogFlood } from './inventory-log-flood.js';
import { createWarehouseDb } from './inventory-warehouse-db.js';

const { log, tracer } = serviceTelemetry('inventory');

const products = [
  { sku: 'SKU-1001', name: 'Trail running shoes', price: 89.9 },
  { sku: 'SKU-1002', name: 'Rain jacket', price: 129.0 },
  { sku: 'SKU-1003', name: 'Merino socks (3 pairs)', price: 24.5 },
  { sku: 'SKU-1004', name: 'Headlamp 400 lm', price: 39.95 },
  { sku: 'SKU-1005', name: 'Hydration vest 12 l', price: 74.0 },
  { sku: 'SKU-1006', name: 'Trekking poles', price: 59.0 },
  { sku: 'SKU-1007', name: 'Insulated bottle 750 ml', price: 27.9 },
  { sku: 'SKU-1008', name: 'Packable down vest', price: 99.0 },
];
const bySku = new Map(products.map((p) => [p.sku, p]));
const stock = new Map(products.map((p) => [p.sku, 500]));
const reservations = new Map();
const query = createWarehouseDb({ tracer, sim: simulation, scenarios: scenarioState });

function itemView(p) {
  return { ...p, stock: stock.get(p.sku) };
}

function restockIfLow(sku) {
  if (stock.get(sku) < 50) stock.set(sku, 500);
}

const routes = {
  'GET /items': async () => ({ body: { items: await query('SELECT', 'stock', () => products.map(itemView)) } }),

  'GET /items/:sku': async ({ params }) => {
    const item = await query('SELECT', 'stock', () => bySku.get(params.sku));
    if (!item) throw new HttpError(404, `unknown sku ${params.sku}`);
    return { body: itemView(item) };
  },

  'POST /reservations': ({ body }) =>
    tracer.startActiveSpan('inventory.reserve', async (span) => {
      try {
        const items = Array.isArray(body.items) ? body.items : [];
        span.setAttributes({ 'order.id': body.orderId, 'inventory.item_count': items.length });
        const lines = await query('SELECT', 'stock', () => items.map((i) => ({ ...i, product: bySku.get(i.sku) })));
        const unknown = lines.find((l) => !l.product);
        if (unknown) throw new HttpError(400, `unknown sku ${unknown.sku}`);
        // A small share of items sells out between browsing and paying.
        const soldOut = lines.find((l) => stock.get(l.sku) < l.qty || simulation.chance(0.02));
        if (soldOut) {
          span.setAttribute('inventory.sold_out_sku', soldOut.sku);
          log.warn('reservation refused: out of stock', { 'order.id': body.orderId, sku: soldOut.sku });
          throw new HttpError(409, `${soldOut.sku} is out of stock`, { sku: soldOut.sku });
        }
        await query('UPDATE', 'stock', () => {
          for (const l of lines) {
            stock.set(l.sku, stock.get(l.sku) - l.qty);
            restockIfLow(l.sku);
          }
        });
        const id = randomUUID();
        reservations.set(id, lines);
        const total = lines.reduce((sum, l) => sum + l.product.price * l.qty, 0);
        log.info('stock reserved', { 'order.id': body.orderId, 'reservation.id': id, 'inventory.item_count': lines.length });
        return { status: 201, body: { reservationId: id, total: Math.round(total * 100) / 100, currency: 'EUR' } };
      } finally {
        span.end();
      }
    }),

  'POST /reservations/:id/release': async ({ params }) => {
    const lines = reservations.get(params.id);
    if (!lines) throw new HttpError(404, `unknown reservation ${params.id}`);
    await query('UPDATE', 'stock', () => {
      for (const l of lines) stock.set(l.sku, stock.get(l.sku) + l.qty);
      reservations.delete(params.id);
    });
    log.info('reservation released', { 'reservation.id': params.id });
    return { body: { released: params.id } };
  },

  'POST /shipments': async ({ body }) => {
    const shipmentId = randomUUID();
    const carrier = simulation.pick(['DHL', 'UPS', 'PostNL', 'GLS']);
    await query('INSERT', 'shipments');
    reservations.delete(body.reservationId);
    log.info('shipment booked', { 'order.id': body.orderId, 'shipment.id': shipmentId, carrier });
    return { status: 201, body: { shipmentId, carrier } };
  },
};

installLogFlood({ tracer, log, sim: simulation, scenarios: scenarioState, skus: products.map((p) => p.sku) });

await startService('inventory', { log, tracer }, routes);
