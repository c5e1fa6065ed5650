/**
 * What every demo service does at start: process metrics, the HTTP server on its port, a log line when a
 * fault scenario for it switches, and the "ready" message to the launcher.
 */
import { trace } from '@opentelemetry/api';
import { createLogger } from '../telemetry/logger.js';
import { registerProcessMetrics } from '../telemetry/process-metrics.js';
import { createHttpServer } from './http-server.js';
import { onScenarioChange } from './scenario-state.js';
import { scenarios } from './scenarios.js';
import { listenHost, servicePort } from './topology.js';

/** Logger and tracer for a service; create them before building its routes. */
export function serviceTelemetry(name) {
  return { log: createLogger(name), tracer: trace.getTracer('mop-demo') };
}

/**
 * @param {string} name one of lib/topology.js services
 * @param {{ log: any, tracer: import('@opentelemetry/api').Tracer }} telemetry
 * @param {Parameters<typeof createHttpServer>[1]} routes
 */
export async function startService(name, { log, tracer }, routes) {
  registerProcessMetrics(name);
  onScenarioChange((scenario, params) => {
    if (scenarios[scenario]?.service !== name) return;
    // In a span of its own so the record has a trace id like every other log line.
    tracer.startActiveSpan('scenario.apply', { attributes: { 'demo.scenario': scenario } }, (span) => {
      if (params) log.warn(`fault scenario ${scenario} started`, { 'demo.scenario': scenario, ...prefixed(params) });
      else log.info(`fault scenario ${scenario} stopped`, { 'demo.scenario': scenario });
      span.end();
    });
  });

  const server = createHttpServer({ log }, routes);
  const host = listenHost();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(servicePort(name), host, resolve);
  });
  const port = server.address().port;
  tracer.startActiveSpan('startup', (span) => {
    log.info(`${name} listening`, { 'server.address': host, 'server.port': port });
    span.end();
  });

  process.send?.({ type: 'ready', service: name, port });
  // The launcher went away (even if it was killed hard): stop, flushing telemetry through the SIGTERM handler.
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  return server;
}

function prefixed(params) {
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [`demo.scenario.${k}`, v]));
}
