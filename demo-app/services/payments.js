/**
 * payments: authorizes card charges (./payments-authorize.js).
 * Fault scenarios: latency-spike (authorization gets slower), error-burst (charges fail with 503).
 */
import { randomUUID } from 'node:crypto';
import { metrics } from '@opentelemetry/api';
import { HttpError } from '../lib/http-server.js';
import { serviceTelemetry, startService } from '../lib/service.js';
import { scenarioState } from '../lib/scenario-state.js';
import { simulation } from '../lib/simulate.js';
import { createAuthorizer } from './payments-authorize.js';

const { log, tracer } = serviceTelemetry('payments');
const outcomes = metrics.getMeter('mop-demo').createCounter('shop.payments', {
  unit: '{payment}',
  description: 'Card charges by outcome (approved, declined, error)',
});
const authorize = createAuthorizer({ tracer, log, sim: simulation, scenarios: scenarioState, outcomes, newId: randomUUID });

const routes = {
  'POST /charges': async ({ body }) => {
    if (!body.orderId || !(body.amount > 0)) throw new HttpError(400, 'orderId and a positive amount are required');
    const paymentId = await authorize({ orderId: body.orderId, amount: body.amount, currency: body.currency ?? 'EUR' });
    return { status: 201, body: { paymentId, status: 'approved' } };
  },
};

await startService('payments', { log, tracer }, routes);
