/**
 * Which docker compose release a rendered compose file needs: each feature the file (or our `up` command line) uses,
 * with the first release that accepts it, read from docker/compose and compose-spec/compose-go tags
 * (../shared/reviews/review-compose-platforms-2026-11-29.md, A10). The requirement is derived from what the file
 * actually contains, so a feature the renderer stops emitting stops raising the bar.
 */
import type { ComposeFile } from '../render/compose.js';

export interface ComposeFeature {
  /** What the user reads: "healthcheck.start_interval". */
  feature: string;
  /** First compose release that accepts it. */
  since: string;
  /** Where that was read. */
  source: string;
}

export const composeFeatures = {
  projectName: { feature: 'the top-level `name:`', since: '2.3.0', source: 'compose-go v1.1.0 "implement project name" (compose v2.3.0); older releases reject it in the schema' },
  completedSuccessfully: { feature: '`depends_on` with `service_completed_successfully`', since: '2.0.0', source: 'every compose v2 release' },
  resourceLimits: { feature: '`deploy.resources.limits` outside swarm', since: '2.0.0', source: 'every compose v2 release' },
  startInterval: {
    feature: '`healthcheck.start_interval`',
    since: '2.20.2',
    source: 'compose-go v1.17.0 (compose v2.20.2) accepts it; compose v2.24.0 (docker/compose#11360) applies it on Engine API 1.44',
  },
  bindCreateHostPath: {
    feature: '`bind.create_host_path` on a long-syntax volume',
    since: '2.0.0',
    source: 'compose-spec/compose-go#132 (2021-04), in every compose v2 release; honoured for `false` only where compose-go has #836/#846 (docker/compose#13602)',
  },
  pullNever: { feature: '`up --pull never`', since: '2.8.0', source: 'docker/compose 9976077e2 "introduce --pull" (v2.8.0)' },
} satisfies Record<string, ComposeFeature>;

/** Compose releases from which `compose build` fails when an older buildx plugin is installed (docker/compose e19e1278b). */
export const BUILDX_STRICT_COMPOSE = '2.40.2';
export const MIN_BUILDX = '0.17.0';

/** The features a rendered file and the `up` arguments use. */
export function composeNeeds(doc: ComposeFile, upArgs: readonly string[] = []): ComposeFeature[] {
  const services = Object.values(doc.services);
  const needs: ComposeFeature[] = [];
  if (doc.name) needs.push(composeFeatures.projectName);
  if (services.some((s) => Object.values(s.depends_on ?? {}).some((d) => d.condition === 'service_completed_successfully'))) {
    needs.push(composeFeatures.completedSuccessfully);
  }
  if (services.some((s) => s.deploy?.resources?.limits)) needs.push(composeFeatures.resourceLimits);
  if (services.some((s) => s.healthcheck?.start_interval)) needs.push(composeFeatures.startInterval);
  if (services.some((s) => s.volumes?.some((v) => v.bind?.create_host_path !== undefined))) needs.push(composeFeatures.bindCreateHostPath);
  if (upArgs.includes('--pull')) needs.push(composeFeatures.pullNever);
  return needs;
}

/** "v2.26.1", "2.26.1-4" (Debian), "2.40.2-desktop.1" → [2, 26, 1]; undefined when there is no x.y.z. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** -1, 0 or 1; an unparsable version sorts first. */
export function compareVersions(a: string, b: string): number {
  const pa = parseVersion(a) ?? [0, 0, 0];
  const pb = parseVersion(b) ?? [0, 0, 0];
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return 0;
}

/** The release that supports every need, and the needs the found version lacks (newest requirement first). */
export function composeRequirement(needs: ComposeFeature[], found?: string): { required: string; missing: ComposeFeature[] } {
  const required = needs.reduce((max, n) => (compareVersions(n.since, max) > 0 ? n.since : max), '2.0.0');
  const missing = found === undefined ? [] : needs.filter((n) => compareVersions(found, n.since) < 0).sort((a, b) => compareVersions(b.since, a.since));
  return { required, missing };
}
