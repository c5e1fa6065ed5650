/**
 * The payments service's authorization: a fraud check, then the card network. Fault scenarios: latency-spike
 * (every charge delayMs slower), error-burst (exactly `rate` of the charges fail with 503, evenly spread).
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { HttpError } from '../lib/http-server.js';

const DECLINE_RATE = 0.04;

/**
 * @param {{ tracer: import('@opentelemetry/api').Tracer, log: any, sim: import('../lib/simulate.js').Simulation,
 *   scenarios: Pick<import('../lib/scenario-state.js').ScenarioState, 'params'>, outcomes: { add(n: number, attrs: object): void },
 *   newId: () => string }} deps
 */
export function createAuthorizer({ tracer, log, sim, scenarios, outcomes, newId }) {
  // Error diffusion: the share of failed charges is the configured rate, so a dashboard shows that rate rather
  // than a noisy estimate of it. The random start keeps two processes from failing the same charges.
  let errorCredit = sim.random();
  function failThisCharge(rate) {
    errorCredit += rate;
    if (errorCredit < 1) return false;
    errorCredit -= 1;
    return true;
  }

  function fraudCheck(amount) {
    return tracer.startActiveSpan('payments.fraud_check', async (span) => {
      await sim.work(3, 12);
      const score = Math.round(Math.min(0.99, sim.random() * 0.3 + amount / 5_000) * 100) / 100;
      span.setAttribute('payment.risk_score', score);
      span.end();
      return score;
    });
  }

  /** @returns {Promise<string>} the payment id; HttpError 503 (error-burst) or 402 (declined) */
  return function authorize({ orderId, amount, currency }) {
    return tracer.startActiveSpan('payments.authorize', { attributes: { 'order.id': orderId, 'payment.amount': amount, 'payment.currency': currency } }, async (span) => {
      try {
        const risk = await fraudCheck(amount);
        await sim.work(15, 45); // the card network round trip
        const spike = scenarios.params('latency-spike');
        if (spike) await sim.sleep(spike.delayMs);
        const burst = scenarios.params('error-burst');
        if (burst && failThisCharge(burst.rate)) {
          const err = new HttpError(503, 'card processor unavailable', { retryable: true });
          span.recordException(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
          outcomes.add(1, { outcome: 'error' });
          throw err;
        }
        if (risk > 0.9 || sim.chance(DECLINE_RATE)) {
          span.setAttribute('payment.outcome', 'declined');
          outcomes.add(1, { outcome: 'declined' });
          log.warn('card declined', { 'order.id': orderId, 'payment.amount': amount, reason: risk > 0.9 ? 'risk' : 'insufficient_funds' });
          throw new HttpError(402, 'card declined');
        }
        const paymentId = newId();
        span.setAttributes({ 'payment.outcome': 'approved', 'payment.id': paymentId });
        outcomes.add(1, { outcome: 'approved' });
        log.info('payment approved', { 'order.id': orderId, 'payment.id': paymentId, 'payment.amount': amount });
        return paymentId;
      } finally {
        span.end();
      }
    });
  };
}
