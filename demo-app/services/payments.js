/**
 * payments: authorizes card charges (fraud check, then the card network).
 * Fault scenarios: latency-spike (authorization gets slower), error-burst (charges fail with 503).
 */
import { randomUUID } from 'node:crypto';
import { metrics, SpanStatusCode } from '@opentelemetry/api';
import { HttpError } from '../lib/http-server.js';
import { serviceTelemetry, startService } from '../lib/service.js';
import { scenarioParams } from '../lib/scenario-state.js';
import { chance, sleep, work } from '../lib/simulate.js';

const { log, tracer } = serviceTelemetry('payments');
const payments = metrics.getMeter('mop-demo').createCounter('shop.payments', {
  unit: '{payment}',
  description: 'Card charges by outcome (approved, declined, error)',
});

const DECLINE_RATE = 0.04;

// error-burst fails exactly `rate` of the charges, evenly spread (error diffusion), so a dashboard shows the
// configured error rate rather than a noisy estimate of it.
let errorCredit = Math.random();
function failThisCharge(rate) {
  errorCredit += rate;
  if (errorCredit < 1) return false;
  errorCredit -= 1;
  return true;
}

function fraudCheck(amount) {
  return tracer.startActiveSpan('payments.fraud_check', async (span) => {
    await work(3, 12);
    const score = Math.round(Math.min(0.99, Math.random() * 0.3 + amount / 5_000) * 100) / 100;
    span.setAttribute('payment.risk_score', score);
    span.end();
    return score;
  });
}

function authorize({ orderId, amount, currency }) {
  return tracer.startActiveSpan('payments.authorize', { attributes: { 'order.id': orderId, 'payment.amount': amount, 'payment.currency': currency } }, async (span) => {
    try {
      const risk = await fraudCheck(amount);
      await work(15, 45); // the card network round trip
      const spike = scenarioParams('latency-spike');
      if (spike) await sleep(spike.delayMs);
      const burst = scenarioParams('error-burst');
      if (burst && failThisCharge(burst.rate)) {
        const err = new HttpError(503, 'card processor unavailable', { retryable: true });
        span.recordException(err);
        span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        payments.add(1, { outcome: 'error' });
        throw err;
      }
      if (risk > 0.9 || chance(DECLINE_RATE)) {
        span.setAttribute('payment.outcome', 'declined');
        payments.add(1, { outcome: 'declined' });
        log.warn('card declined', { 'order.id': orderId, 'payment.amount': amount, reason: risk > 0.9 ? 'risk' : 'insufficient_funds' });
        throw new HttpError(402, 'card declined');
      }
      const paymentId = randomUUID();
      span.setAttributes({ 'payment.outcome': 'approved', 'payment.id': paymentId });
      payments.add(1, { outcome: 'approved' });
      log.info('payment approved', { 'order.id': orderId, 'payment.id': paymentId, 'payment.amount': amount });
      return paymentId;
    } finally {
      span.end();
    }
  });
}

const routes = {
  'POST /charges': async ({ body }) => {
    if (!body.orderId || !(body.amount > 0)) throw new HttpError(400, 'orderId and a positive amount are required');
    const paymentId = await authorize({ orderId: body.orderId, amount: body.amount, currency: body.currency ?? 'EUR' });
    return { status: 201, body: { paymentId, status: 'approved' } };
  },
};

await startService('payments', { log, tracer }, routes);
