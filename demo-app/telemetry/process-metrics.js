/**
 * Metrics every service exports: its V8 heap (the memory-growth scenario shows here) and which of its
 * fault scenarios are on, so a dashboard can mark the time a fault was injected.
 */
import { metrics } from '@opentelemetry/api';
import { scenarios } from '../lib/scenarios.js';
import { scenarioParams } from '../lib/scenario-state.js';

export function registerProcessMetrics(service) {
  const meter = metrics.getMeter('mop-demo');
  meter
    .createObservableGauge('demo.process.heap.used', { unit: 'By', description: 'V8 heap in use by the service process' })
    .addCallback((result) => result.observe(process.memoryUsage().heapUsed));

  const own = Object.keys(scenarios).filter((name) => scenarios[name].service === service);
  meter
    .createObservableGauge('demo.scenario.active', { unit: '{scenario}', description: '1 while the fault scenario is switched on' })
    .addCallback((result) => {
      for (const name of own) result.observe(scenarioParams(name) ? 1 : 0, { scenario: name });
    });
}
