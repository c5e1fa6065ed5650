/**
 * The provisioned dashboards, by file name under dashboards/. Each is built from typed code with
 * @grafana/grafana-foundation-sdk; dashboards/src/build.ts writes them, and
 * test/dashboards/dashboards.test.ts fails when a committed file differs from what the code builds.
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { alloyPipeline } from './alloy-pipeline.js';
import { demoServices } from './demo-services.js';
import { lokiLogs } from './loki-logs.js';
import { mimirMetrics } from './mimir-metrics.js';
import { obiOverview } from './obi-overview.js';
import { tempoTracing } from './tempo-tracing.js';

export const dashboards: Record<string, () => Dashboard> = {
  'obi-overview.json': obiOverview,
  'alloy-pipeline.json': alloyPipeline,
  'tempo-tracing.json': tempoTracing,
  'mimir-metrics.json': mimirMetrics,
  'loki-logs.json': lokiLogs,
  'demo-services.json': demoServices,
};

/** The exact bytes a dashboard file holds. */
export function render(dashboard: Dashboard): string {
  return JSON.stringify(dashboard, null, 2) + '\n';
}
