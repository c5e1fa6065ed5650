/** Whether the stack exists on the engine, each component's row for `status`, and the disk where its data lives. */
import { logTail } from '../../lib/docker.js';
import type { Stack } from '../../stack/model.js';
import { uiPort } from '../../stack/urls.js';
import { diskFix, diskFullLine, type DiskReading, readDisk } from '../disk.js';
import { classifyExit } from '../exits.js';
import type { ComponentStatus } from '../runtime.js';
import { byService, client, type ComposeContext, getEngine, logLines, probeHost, projectContainers, publishedFor } from './context.js';
import { isHealthy as isHealthyStatus } from '../runtime.js';

export async function exists(cx: ComposeContext): Promise<boolean> {
  return (await projectContainers(cx)).length > 0;
}

/**
 * `status` looks once, where `up`'s wait looks every tick: a backend answers its readiness path in milliseconds, but
 * on a laptop busy with other work the answer (through the gateway for fronted ports) can take seconds, which is slow,
 * not unhealthy.
 */
export const statusProbeTimeoutMs = 5000;

export async function status(cx: ComposeContext, stack: Stack): Promise<ComponentStatus[]> {
  const list = await projectContainers(cx);
  if (!list.length) return [];
  const services = byService(list);
  const statuses = await Promise.all(
    stack.components.map(async (c): Promise<ComponentStatus> => {
      const s = services.get(c.name)?.[0];
      const ui = uiPort(stack, c.name);
      if (!s) return { name: c.name, state: 'missing', health: 'none' };
      const uiAt = ui ? publishedFor(stack, services, s, c.name, ui.containerPort) : undefined;
      const pub = uiAt && !('waitingFor' in uiAt) ? uiAt : undefined;
      const url = pub ? `http://${probeHost(cx.endpoint, pub.ip)}:${pub.port}${c.uiPath ?? '/'}` : undefined;
      const d = await client(cx).getContainer(s.Id).inspect();
      // The list's "Restarting (7) 1 second ago" keeps the last exit code; by the inspect the container may run again (code 0).
      const listed = /\((\d+)\)/.exec(s.Status)?.[1];
      const facts = { exitCode: listed !== undefined ? Number(listed) : d.State.ExitCode, oomKilled: Boolean(d.State.OOMKilled), restarts: d.RestartCount };
      if (s.State === 'exited' || s.State === 'dead') {
        const code = d.State.ExitCode;
        if (c.oneShot && code === 0) return { name: c.name, state: 'completed', health: 'none', url, exitCode: code };
        const why = classifyExit(c, facts);
        return { name: c.name, state: 'exited', health: 'unhealthy', url, exitCode: code, detail: why.detail, exit: why.kind };
      }
      if (s.State === 'restarting') {
        const why = classifyExit(c, { ...facts, restarts: Math.max(facts.restarts, 2) });
        return { name: c.name, state: 'restarting', health: 'unhealthy', url, detail: why.detail, exit: why.kind };
      }
      if (s.State === 'created') return { name: c.name, state: 'created', health: 'none', url, detail: 'created, not started' };
      if (s.State !== 'running') return { name: c.name, state: 'starting', health: 'starting', url, detail: s.State };
      if (c.oneShot) return { name: c.name, state: 'running', health: 'starting', url, detail: 'still running' };
      const dockerHealth = d.State.Health?.Status;
      if (c.readiness) {
        const at = publishedFor(stack, services, s, c.name, c.readiness.port);
        if (at && 'waitingFor' in at) return { name: c.name, state: 'running', health: 'unhealthy', url, detail: `its port is published by ${at.waitingFor}, which is not running` };
        const rp = at;
        if (rp) {
          const r = await cx.http(`http://${probeHost(cx.endpoint, rp.ip)}:${rp.port}${c.readiness.path}`, statusProbeTimeoutMs);
          if (r.status !== undefined && r.status >= 200 && r.status < 300) return { name: c.name, state: 'running', health: 'healthy', url };
          const why = r.status ? `${c.readiness.path} answers HTTP ${r.status}` : `${c.readiness.path}: ${r.error}`;
          // Between two crashes a looping container looks "running": its restarts tell it from a slow start.
          if (facts.restarts >= 2) {
            const loop = classifyExit(c, { ...facts, exitCode: undefined });
            return { name: c.name, state: 'running', health: 'unhealthy', url, detail: `${loop.detail}${loop.kind === 'oom' ? '' : ` (${why})`}`, exit: 'restart-loop' };
          }
          const up = Math.round((Date.now() - Date.parse(d.State.StartedAt)) / 1000);
          const since = Number.isFinite(up) && up >= 0 ? `up ${up}s, ` : '';
          return { name: c.name, state: 'running', health: dockerHealth === 'starting' ? 'starting' : 'unhealthy', url, detail: `${since}${facts.restarts ? `restarted once` : 'no restarts'}: ${why}` };
        }
      }
      if (dockerHealth === 'healthy' || dockerHealth === 'unhealthy' || dockerHealth === 'starting') return { name: c.name, state: 'running', health: dockerHealth, url };
      return { name: c.name, state: 'running', health: 'none', url };
    }),
  );
  // A backend whose disk filled says so in its log; say it here rather than leave "unhealthy" unexplained.
  await Promise.all(
    statuses.map(async (st) => {
      const s = services.get(st.name)?.[0];
      if (!s || isHealthyStatus(st) || st.state === 'missing') return;
      const full = diskFullLine(await logTail(client(cx), s.Id, logLines).catch(() => []));
      if (full) st.detail = `its disk is full ("${full.trim().slice(0, 120)}"); ${diskFix}`;
    }),
  );
  return statuses;
}

export async function disk(cx: ComposeContext, stack: Stack): Promise<DiskReading> {
  return readDisk(stack, await getEngine(cx), cx.deps.freeBytes, cx.platform);
}

