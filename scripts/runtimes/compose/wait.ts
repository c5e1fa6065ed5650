/**
 * The wait stage of the compose runtime: one look per tick at every pending component (container state, restarts
 * since this `up`, then the HTTP readiness probe on its published port).
 */
import type { ContainerSummary } from '../../lib/docker.js';
import type { Component, ComponentName, Stack } from '../../stack/model.js';
import type { Observation } from '../readiness.js';
import { byService, client, type ComposeContext, probeHost, projectContainers, publishedFor } from './context.js';

export const defaultReadyTimeoutMs = 180_000;

/**
 * Each container's last exit and restart count before this `up` ran compose: an exit from before is what `up` is
 * here to repair (compose starts the container again), not a failure of this start.
 */
export type Baseline = Map<string, { finishedAt: string; restarts: number }>;
export async function baseline(cx: ComposeContext): Promise<Baseline> {
  const list = await projectContainers(cx);
  const entries = await Promise.all(
    list.map(async (c) => {
      const d = await client(cx).getContainer(c.Id).inspect().catch(() => undefined);
      return d ? ([c.Id, { finishedAt: d.State.FinishedAt, restarts: d.RestartCount }] as const) : undefined;
    }),
  );
  return new Map(entries.filter((e) => e !== undefined));
}


/** One look at every pending component: container state, then the HTTP readiness probe on its published port. */
export async function observe(cx: ComposeContext, stack: Stack, pending: ComponentName[], before: Baseline = new Map()): Promise<Map<ComponentName, Observation>> {
  const services = byService(await projectContainers(cx));
  const out = new Map<ComponentName, Observation>();
  await Promise.all(
    pending.map(async (name) => {
      const c = stack.components.find((x) => x.name === name)!;
      const containers = services.get(name) ?? [];
      if (!containers.length) {
        const deps = c.dependsOn.map((d) => d.name).filter((d) => stack.components.some((x) => x.name === d));
        out.set(name, { kind: 'waiting', detail: deps.length ? `waiting for ${deps.join(', ')}` : 'being created' });
        return;
      }
      const results = await Promise.all(containers.map((s) => observeContainer(cx, stack, c, s, before.get(s.Id), services)));
      out.set(name, results.find((r) => r.kind === 'failed') ?? results.find((r) => r.kind === 'waiting') ?? { kind: 'ready' });
    }),
  );
  return out;
}

export async function observeContainer(
  cx: ComposeContext,
  stack: Stack,
  c: Component,
  s: ContainerSummary,
  before?: { finishedAt: string; restarts: number },
  services: Map<string, ContainerSummary[]> = new Map(),
): Promise<Observation> {
  if (s.State === 'created') {
    const deps = c.dependsOn.map((d) => d.name);
    return { kind: 'waiting', detail: deps.length ? `waiting for ${deps.join(', ')}` : 'created' };
  }
  const d = await client(cx).getContainer(s.Id).inspect();
  // "Exited (7) 2 seconds ago", "Restarting (7) 1 second ago": the last exit code even after a restart.
  const code = Number(/\((\d+)\)/.exec(s.Status)?.[1] ?? d.State.ExitCode);
  // The same exit as before this `up`: compose is about to start it again.
  const oldExit = before !== undefined && d.State.FinishedAt === before.finishedAt;
  if (s.State === 'exited' || s.State === 'dead') {
    if (c.oneShot && code === 0) return { kind: 'ready' };
    if (oldExit) return { kind: 'waiting', detail: `exited before this \`up\` (code ${code}); starting it again` };
    if (d.State.OOMKilled) return { kind: 'failed', reason: `was killed for running out of memory (its limit is ${c.resources.limits.memory})`, exitCode: code };
    return { kind: 'failed', reason: `exited with code ${code}`, exitCode: code };
  }
  // restart: unless-stopped brings a crashed component back; a second crash (or a restart in progress after
  // the first) is a crash loop, and waiting longer will not help. Restarts before this `up` do not count.
  const prior = before?.restarts ?? 0;
  const restarts = d.RestartCount >= prior ? d.RestartCount - prior : d.RestartCount; // a manual start may reset the count
  if (restarts >= 2 || (s.State === 'restarting' && restarts >= 1)) {
    const last = s.State === 'restarting' ? `, last exit code ${code}` : '';
    const oom = d.State.OOMKilled ? `, out of memory at its ${c.resources.limits.memory} limit` : '';
    return { kind: 'failed', reason: `keeps crashing (restarted ${restarts} time${restarts === 1 ? '' : 's'}${last}${oom})`, exitCode: s.State === 'restarting' ? code : undefined };
  }
  if (s.State === 'restarting') return { kind: 'waiting', detail: `restarting after exit code ${code}`, started: true };
  if (s.State !== 'running') return { kind: 'waiting', detail: s.State, started: true };
  if (c.oneShot) return { kind: 'waiting', detail: 'running', started: true };
  if (c.readiness) {
    // Through the gateway for the ports it fronts (Mimir's image has no shell: this probe is its only health check).
    const pub = publishedFor(stack, services, s, c.name, c.readiness.port);
    if (pub && 'waitingFor' in pub) return { kind: 'waiting', detail: `waiting for ${pub.waitingFor}, which publishes its port`, started: true };
    if (pub) {
      const url = `http://${probeHost(cx.endpoint, pub.ip)}:${pub.port}${c.readiness.path}`;
      const r = await cx.http(url);
      if (r.status !== undefined && r.status >= 200 && r.status < 300) return { kind: 'ready' };
      // A crash loop can look "running" between restarts.
      if (/\(unhealthy\)/.test(s.Status)) return { kind: 'waiting', detail: `unhealthy (${r.status ? `HTTP ${r.status}` : r.error})`, started: true };
      return { kind: 'waiting', detail: `starting (${r.status ? `HTTP ${r.status}` : r.error} from ${c.readiness.path})`, started: true };
    }
  }
  if (c.healthcheck) {
    if (/\(healthy\)/.test(s.Status)) return { kind: 'ready' };
    return { kind: 'waiting', detail: /\(unhealthy\)/.test(s.Status) ? 'unhealthy' : 'health: starting', started: true };
  }
  return { kind: 'ready' };
}
