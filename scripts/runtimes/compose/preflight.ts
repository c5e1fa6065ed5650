/**
 * The compose runtime's preflight: Docker, compose v2 (the release the file `up` would write needs), buildx, host
 * ports, configs, memory, loopback isolation, disk, and the engine plan's checks (Docker socket for container logs,
 * CPU limits, Linux containers, a remote engine).
 */
import { cliEnv, supportsStartInterval } from '../../lib/docker.js';
import { configDir, dashboardsDir } from '../../lib/paths.js';
import { composeDocument } from '../../render/compose.js';
import type { Stack } from '../../stack/model.js';
import { composeNeeds, type ComposeFeature } from '../compose-version.js';
import { checkDisk, readDisk } from '../disk.js';
import { planEngine } from '../engine-plan.js';
import { checkBuildx, checkCompose, checkConfigFiles, checkDocker, checkLoopbackIsolation, checkMemory, checkPorts, type DockerCheck } from '../preflight.js';
import type { PreflightCheck } from '../runtime.js';
import { client, type ComposeContext } from './context.js';
import { upArgs } from './start.js';

/** The features of the file `up` would write for this engine (start_interval only from Engine API 1.44). */
function needsFor(cx: ComposeContext, stack: Stack, d: DockerCheck): ComposeFeature[] {
  try {
    const engine = d.engine ? planEngine(d.engine, cx.platform, cx.deps.hostProbe).adaptations : undefined;
    return composeNeeds(composeDocument(stack, { projectName: cx.project, startInterval: d.engine ? supportsStartInterval(d.engine) : false, engine }), upArgs);
  } catch {
    return []; // a missing config file: its own check says so
  }
}

export async function preflight(cx: ComposeContext, stack: Stack): Promise<PreflightCheck[]> {
  // All at once: `docker compose version` alone takes half a second.
  const docker = checkDocker({ exec: cx.exec, env: cx.env, platform: cx.platform, docker: client(cx), endpoint: cx.endpoint });
  const [d, compose, ports] = await Promise.all([
    docker,
    checkCompose({ exec: cx.exec, env: cliEnv(cx.endpoint, cx.env), platform: cx.platform, needs: docker.then((d) => needsFor(cx, stack, d)) }),
    checkPorts(stack, { exec: cx.exec, docker: client(cx), ownProject: cx.project, platform: cx.platform }),
  ]);
  if (d.engine) cx.engine = d.engine;
  const checks: PreflightCheck[] = [d.check, compose, checkConfigFiles(stack, 'compose', { config: configDir, dashboards: dashboardsDir }), ...ports];
  if (stack.components.some((c) => c.build)) {
    const buildx = await checkBuildx({ exec: cx.exec, env: cliEnv(cx.endpoint, cx.env) }, compose.version);
    if (buildx) checks.push(buildx);
  }
  if (d.engine) {
    checks.push(checkMemory(stack, d.engine, cx.platform), checkLoopbackIsolation(d.engine), checkDisk(stack, await readDisk(stack, d.engine, cx.deps.freeBytes, cx.platform)));
    // What the render adapts to this engine (socket, CPU limits) and what it cannot run on (Windows containers).
    checks.push(...planEngine(d.engine, cx.platform, cx.deps.hostProbe).checks);
  }
  return checks;
}
