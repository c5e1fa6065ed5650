/**
 * Load generator: an open-loop, steady DEMO_LOAD_RPS requests per second to the storefront (DEMO_LOAD_TARGET)
 * with a shopper-like mix. Not instrumented, so each request's trace starts at the storefront.
 * Requests beyond DEMO_LOAD_MAX_INFLIGHT in flight are skipped and counted, so a slow system is not buried.
 */
import http from 'node:http';
import { createPacer } from './pacer.js';

const target = new URL(process.env.DEMO_LOAD_TARGET ?? 'http://127.0.0.1:8090');
const rps = Number(process.env.DEMO_LOAD_RPS ?? 5);
const maxInflight = Number(process.env.DEMO_LOAD_MAX_INFLIGHT ?? 200);
const STATS_EVERY_MS = 30_000;

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let skus = ['SKU-1001', 'SKU-1002', 'SKU-1003', 'SKU-1004', 'SKU-1005', 'SKU-1006', 'SKU-1007', 'SKU-1008'];
const recentOrders = [];
/** networkErrors counts every request that got no answer; timeouts and resets say which of those were which. */
const stats = { sent: 0, ok: 0, clientErrors: 0, serverErrors: 0, networkErrors: 0, timeouts: 0, resets: 0, retried: 0, skipped: 0 };
let inflight = 0;

const pick = (list) => list[Math.floor(Math.random() * list.length)];

function request(method, path, body, retried = false) {
  const payload = body && JSON.stringify(body);
  return new Promise((resolve) => {
    const req = http.request(
      { agent, host: target.hostname, port: target.port, method, path, timeout: 30_000, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          let parsed = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => {
      // A kept-alive socket the server closed just as we reused it: the server never read the request, so sending
      // it once more on a fresh socket is safe (the pattern Node's http docs give for keep-alive races).
      if (req.reusedSocket && e.code === 'ECONNRESET' && !retried) {
        stats.retried++;
        return resolve(request(method, path, body, true));
      }
      resolve({ status: 0, body: {}, error: e.code });
    });
    req.end(payload);
  });
}

/** One shopper action, weighted like a shop's traffic: mostly browsing, a quarter checkouts. */
async function action() {
  const r = Math.random();
  if (r < 0.45) {
    const res = await request('GET', '/api/products');
    if (res.status === 200 && Array.isArray(res.body.products)) skus = res.body.products.map((p) => p.sku);
    return res;
  }
  if (r < 0.65) return request('GET', `/api/products/${Math.random() < 0.03 ? 'SKU-0000' : pick(skus)}`);
  if (r < 0.9 || recentOrders.length === 0) {
    const lines = 1 + Math.floor(Math.random() * 3);
    const items = Array.from({ length: lines }, () => ({ sku: pick(skus), qty: 1 + Math.floor(Math.random() * 2) }));
    const res = await request('POST', '/api/checkout', { customerId: `cust-${1 + Math.floor(Math.random() * 500)}`, items });
    if (res.status === 201 && res.body.orderId) {
      recentOrders.push(res.body.orderId);
      if (recentOrders.length > 100) recentOrders.shift();
    }
    return res;
  }
  return request('GET', `/api/orders/${pick(recentOrders)}`);
}

async function fire() {
  if (inflight >= maxInflight) return void stats.skipped++;
  inflight++;
  stats.sent++;
  const { status, error } = await action();
  inflight--;
  if (status === 0) {
    stats.networkErrors++;
    if (error === 'TIMEOUT') stats.timeouts++;
    else if (error === 'ECONNRESET') stats.resets++;
  }
  else if (status >= 500) stats.serverErrors++;
  else if (status >= 400) stats.clientErrors++;
  else stats.ok++;
}

function logStats() {
  const fields = Object.entries({ rps, inflight, ...stats }).map(([k, v]) => `${k}=${v}`).join(' ');
  process.stdout.write(`ts=${new Date().toISOString()} level=info service=loadgen msg="load generator stats" ${fields}\n`);
}

if (rps > 0) {
  const due = createPacer(rps);
  setInterval(() => {
    for (let i = due(); i > 0; i--) void fire();
  }, 20);
  setInterval(logStats, STATS_EVERY_MS);
}
process.stdout.write(`ts=${new Date().toISOString()} level=info service=loadgen msg="load generator started" target=${target.origin} rps=${rps}\n`);
process.send?.({ type: 'ready', service: 'loadgen' });
process.on('disconnect', () => process.exit(0));
