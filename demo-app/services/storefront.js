/**
 * storefront: the public API (port DEMO_PORT). Browsing goes to inventory, checkout and order status to orders.
 */
import { HttpError } from '../lib/http-server.js';
import { createClient } from '../lib/http-client.js';
import { serviceTelemetry, startService } from '../lib/service.js';
import { serviceUrl } from '../lib/topology.js';
import { simulation } from '../lib/simulate.js';

const { log, tracer } = serviceTelemetry('storefront');
const inventory = createClient(serviceUrl('inventory'));
const orders = createClient(serviceUrl('orders'));

/** Calls a backend; network failures and 5xx answers become a 502 for the shopper. */
async function upstream(client, name, method, path, body) {
  let res;
  try {
    res = await client.request(method, path, body);
  } catch (err) {
    log.error(`${name} unreachable`, { 'error.message': err.message });
    throw new HttpError(502, `${name} unavailable`);
  }
  if (res.status >= 500) throw new HttpError(502, `${name} failed: ${res.body.error ?? res.status}`);
  if (res.status >= 400) throw new HttpError(res.status, res.body.error ?? `${name} answered ${res.status}`, res.body);
  return res;
}

/** Merges duplicate lines and checks quantities before anything is reserved. */
function validateCart(items) {
  return tracer.startActiveSpan('cart.validate', async (span) => {
    try {
      await simulation.work(0.5, 2);
      if (!Array.isArray(items) || items.length === 0) throw new HttpError(400, 'the cart is empty');
      const merged = new Map();
      for (const { sku, qty = 1 } of items) {
        if (typeof sku !== 'string' || !Number.isInteger(qty) || qty < 1 || qty > 10) throw new HttpError(400, 'each item needs a sku and a qty from 1 to 10');
        merged.set(sku, (merged.get(sku) ?? 0) + qty);
      }
      const lines = [...merged].map(([sku, qty]) => ({ sku, qty }));
      span.setAttribute('cart.line_count', lines.length);
      return lines;
    } finally {
      span.end();
    }
  });
}

const routes = {
  'GET /': async () => ({
    body: {
      service: 'storefront',
      endpoints: ['GET /api/products', 'GET /api/products/:sku', 'POST /api/checkout {customerId, items:[{sku, qty}]}', 'GET /api/orders/:id'],
    },
  }),

  'GET /api/products': async () => {
    const res = await upstream(inventory, 'inventory', 'GET', '/items');
    return { body: { products: res.body.items.map(({ sku, name, price, stock }) => ({ sku, name, price, inStock: stock > 0 })) } };
  },

  'GET /api/products/:sku': async ({ params }) => {
    const res = await upstream(inventory, 'inventory', 'GET', `/items/${encodeURIComponent(params.sku)}`);
    return { body: res.body };
  },

  'POST /api/checkout': async ({ body }) => {
    const items = await validateCart(body.items);
    const res = await upstream(orders, 'orders', 'POST', '/orders', { customerId: body.customerId ?? 'guest', items });
    log.info('checkout complete', { 'order.id': res.body.id, 'order.total': res.body.total });
    return { status: 201, body: { orderId: res.body.id, status: res.body.status, total: res.body.total, currency: res.body.currency } };
  },

  'GET /api/orders/:id': async ({ params }) => {
    const res = await upstream(orders, 'orders', 'GET', `/orders/${encodeURIComponent(params.id)}`);
    return { body: res.body };
  },
};

await startService('storefront', { log, tracer }, routes);
