/**
 * The compose runtime's preflight: Docker, compose v2, host ports, configs, memory, loopback isolation, disk, and the
 * engine plan's checks (Docker socket for container logs, CPU limits, Linux containers, a remote engine).
 */
import { configDir, dashboardsDir } from '../../lib/paths.js';
import type { Stack } from '../../stack/model.js';
import { checkDisk, readDisk } from '../disk.js';
import { planEngine } from '../engine-plan.js';
import { checkCompose, checkConfigFiles, checkDocker, checkLoopbackIsolation, checkMemory, checkPorts } from '../preflight.js';
import type { PreflightCheck } from '../runtime.js';
import { client, type ComposeContext } from './context.js';

export async function preflight(cx: ComposeContext, stack: Stack): Promise<PreflightCheck[]> {
  // All at once: `docker compose version` alone takes half a second.
  const [d, compose, ports] = await Promise.all([
    checkDocker({ exec: cx.exec, env: cx.env, platform: cx.platform, docker: client(cx), endpoint: cx.endpoint }),
    checkCompose({ exec: cx.exec, env: cx.env, platform: cx.platform }),
    checkPorts(stack, { exec: cx.exec, docker: client(cx), ownProject: cx.project, platform: cx.platform }),
  ]);
  if (d.engine) cx.engine = d.engine;
  const checks: PreflightCheck[] = [d.check, compose, checkConfigFiles(stack, 'compose', { config: configDir, dashboards: dashboardsDir }), ...ports];
  if (d.engine) {
    checks.push(checkMemory(stack, d.engine), checkLoopbackIsolation(d.engine), checkDisk(stack, await readDisk(stack, d.engine, cx.deps.freeBytes)));
    // What the render adapts to this engine (socket, CPU limits) and what it cannot run on (Windows containers).
    checks.push(...planEngine(d.engine, cx.platform, cx.deps.hostProbe).checks);
  }
  return checks;
}
