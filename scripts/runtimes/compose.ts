/**
 * The docker compose runtime: `docker compose -p <project> -f <stateDir>/compose/docker-compose.yml ...` (v2) through
 * the exec wrapper to create things, dockerode to look at them (states, health, logs, port holders) and to remove
 * them by the compose project label, so `down` works even when the compose file is gone or the stack is broken.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { removeUnder } from '../lib/remove.js';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { defaultStackId, secretNames, stackLabel, type Component, type ComponentName, type Stack } from '../stack/model.js';
import { renderCompose } from '../render/compose.js';
import { secretEnvName } from '../render/common.js';
import { configDir, dashboardsDir, packageRoot } from '../lib/paths.js';
import { stateDir, type Credentials } from '../lib/state.js';
import { uiPort } from '../stack/urls.js';
import { CommandFailed, stderrTail, type Exec } from '../lib/exec.js';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import {
  containerName,
  createDocker,
  demuxLogs,
  inspectEngine,
  logTail,
  resolveEndpoint,
  supportsStartInterval,
  unreachableError,
  type ContainerSummary,
  type DockerApi,
  type DockerEndpoint,
  type Engine,
} from '../lib/docker.js';
import { checkCompose, checkConfigFiles, checkDocker, checkLoopbackIsolation, checkMemory, checkPorts } from './preflight.js';
import { httpProbe, NotReady, waitForReady, type Observation } from './readiness.js';
import { classifyExit } from './exits.js';
import { checkDisk, diskFix, diskFullLine, readDisk, type DiskReading, type FreeBytes } from './disk.js';
import { isHealthy as isHealthyStatus } from './runtime.js';
import type { ComponentStatus, DownResult, LogOptions, PreflightCheck, ReadyTimes, Runtime, RuntimeDeps, UpContext } from './runtime.js';

export const projectLabel = 'com.docker.compose.project';
export const serviceLabel = 'com.docker.compose.service';
export const componentLabel = 'com.mop-sandbox.component';
export const defaultProject = defaultStackId;
export const defaultReadyTimeoutMs = 180_000;
const logLines = 50;
const secs = (ms: number) => `${ms < 10_000 ? Number((ms / 1000).toFixed(1)) : Math.round(ms / 1000)}s`;

/** The compose project name: MOP_PROJECT (tests run several side by side) or "mop-sandbox". */
export function projectName(env: NodeJS.ProcessEnv): string {
  const p = env.MOP_PROJECT || defaultProject;
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(p)) {
    throw usageError(`MOP_PROJECT="${p}" is not a valid compose project name`, 'use lowercase letters, digits, "-" and "_", starting with a letter or digit');
  }
  return p;
}

export const composeFilePath = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'compose', 'docker-compose.yml');

/** Credentials reach compose as process environment (the compose file names them as required variables). */
export function credentialEnv(credentials: Credentials): Record<string, string> {
  return Object.fromEntries(secretNames.map((n) => [secretEnvName(n), credentials[n]]));
}

/** The host to probe published ports on: the engine's host for a remote engine, else the bind address. */
export function probeHost(endpoint: DockerEndpoint, hostIp: string): string {
  if (/^(tcp|ssh|https?):/.test(endpoint.host)) {
    try {
      return new URL(endpoint.host).hostname;
    } catch {
      /* fall through */
    }
  }
  if (hostIp === '0.0.0.0' || hostIp === '') return '127.0.0.1';
  if (hostIp === '::') return '[::1]';
  return hostIp.includes(':') ? `[${hostIp}]` : hostIp;
}

/** The host port a container publishes for a container port, from the list API. */
export function publishedPort(c: ContainerSummary, containerPort: number): { ip: string; port: number } | undefined {
  const p = c.Ports?.find((x) => x.PrivatePort === containerPort && x.Type === 'tcp' && x.PublicPort);
  return p ? { ip: p.IP ?? '0.0.0.0', port: p.PublicPort! } : undefined;
}

/**
 * Whether a container, volume or network that carries the compose project label is this stack's: it carries the
 * stack label with this project's name. Objects made before the stack label existed carry only mop-sandbox's
 * component label (containers, volumes) or are the project's default network.
 */
export function isOwn(labels: Record<string, string> | null | undefined, project: string, networkName?: string): boolean {
  const stack = labels?.[stackLabel];
  if (stack !== undefined) return stack === project;
  if (labels?.[componentLabel] !== undefined) return true;
  return networkName === `${project}_default`;
}

function projectTaken(project: string, foreign: ContainerSummary[]): UserError {
  const names = foreign.map(containerName);
  return new UserError({
    what: `the compose project "${project}" already has containers that mop-sandbox did not create`,
    why: `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} carry the project label ${projectLabel}=${project} but not ${stackLabel}; starting would let compose remove them as orphans`,
    next: `choose another project name (MOP_PROJECT=<name> mop-sandbox up), or stop that other project first`,
    exitCode: ExitCode.preflight,
    code: 'PROJECT_TAKEN',
  });
}

/** Pulls that will not succeed on retry. */
/**
 * Pull failures grouped by cause (stderr's last line, with the image's own name taken out), so that fourteen images
 * failing for one reason (no network, a mirror refusing) read as one line listing the fourteen.
 */
export function pullFailureGroups(failures: { image: string; stderr: string }[]): { cause: string; images: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const f of failures) {
    const repo = f.image.replace(/[:@][^/]*$/, '');
    const cause = stderrTail(f.stderr, 1).split(f.image).join('<image>').split(repo).join('<image>') || 'no error output';
    groups.set(cause, [...(groups.get(cause) ?? []), f.image]);
  }
  return [...groups].map(([cause, images]) => ({ cause, images }));
}

const definitivePull = /not found|manifest unknown|unauthorized|denied|no such host|repository does not exist|invalid reference/i;

type HttpProbe = typeof httpProbe;

export interface ComposeRuntimeDeps extends RuntimeDeps {
  /** Injected readiness probe (unit tests). */
  http?: HttpProbe;
  /** Poll interval while waiting (ms). */
  intervalMs?: number;
  /** Injected statfs (unit tests). */
  freeBytes?: FreeBytes;
}

export function createComposeRuntime(deps: ComposeRuntimeDeps) {
  const { exec, env } = deps;
  const platform = deps.platform ?? process.platform;
  const project = projectName(env);
  const endpoint = resolveEndpoint(env, platform);
  const file = composeFilePath(env);
  const http = deps.http ?? httpProbe;
  let docker: DockerApi | undefined = deps.docker;
  let engine: Engine | undefined;

  const client = (): DockerApi => (docker ??= createDocker(endpoint, env));

  async function getEngine(): Promise<Engine> {
    if (engine) return engine;
    try {
      engine = await inspectEngine(client(), endpoint);
      return engine;
    } catch (e) {
      throw unreachableError(endpoint, e, platform);
    }
  }

  const base = () => ['compose', '-p', project, '-f', file];

  /** Everything compose counts as this project, ours or not (compose selects by the project label alone). */
  async function labelledContainers(): Promise<ContainerSummary[]> {
    try {
      return await client().listContainers({ all: true, filters: { label: [`${projectLabel}=${project}`] } });
    } catch (e) {
      throw unreachableError(endpoint, e, platform);
    }
  }

  /** This stack's containers: the project label and ours (another project with the same name is never touched). */
  async function projectContainers(): Promise<ContainerSummary[]> {
    return (await labelledContainers()).filter((c) => isOwn(c.Labels, project));
  }

  const byService = (list: ContainerSummary[]) => {
    const m = new Map<string, ContainerSummary[]>();
    for (const c of list) {
      const s = c.Labels?.[serviceLabel];
      if (s) m.set(s, [...(m.get(s) ?? []), c]);
    }
    return m;
  };

  async function render(stack: Stack): Promise<void> {
    const eng = await getEngine();
    const yaml = renderCompose(stack, {
      projectName: project,
      paths: { config: configDir, dashboards: dashboardsDir, buildContext: packageRoot },
      startInterval: supportsStartInterval(eng),
      header: [`Written by \`mop-sandbox up\` for project "${project}"; configs are mounted from ${configDir}.`],
    });
    await mkdir(join(stateDir(env), 'compose'), { recursive: true, mode: 0o700 });
    await writeFile(file, yaml, { mode: 0o644 });
  }

  /** Builds what is built locally, pulls what is missing (never re-pulls a pinned image that is present). */
  async function prepareImages(stack: Stack, ctx: UpContext, composeEnv: NodeJS.ProcessEnv): Promise<void> {
    const seen = new Set<string>();
    const toBuild: Component[] = [];
    const toPull: Component[] = [];
    for (const c of stack.components) {
      if (c.build) {
        toBuild.push(c);
        continue;
      }
      if (seen.has(c.image)) continue;
      seen.add(c.image);
      const present = await client()
        .getImage(c.image)
        .inspect()
        .then(() => true)
        .catch(() => false);
      if (!present) toPull.push(c);
    }
    if (!toPull.length && !toBuild.length) {
      ctx.out.step(`images: all ${seen.size} present locally`).ok('no pull needed');
      return;
    }
    const steps = ctx.out.group([...toPull.map((c) => `pull ${c.image}`), ...toBuild.map((c) => `build ${c.image}`)]);
    const failures: { c: Component; err: CommandFailed }[] = [];
    const pullOne = async (c: Component, i: number) => {
      const started = Date.now();
      for (let attempt = 1; ; attempt++) {
        const r = await exec.run('docker', [...base(), 'pull', '--quiet', c.name], { env: composeEnv, signal: ctx.signal, allowFail: true });
        if (r.exitCode === 0) return steps[i].ok(`${((Date.now() - started) / 1000).toFixed(1)}s`);
        if (ctx.signal.aborted) return steps[i].fail('interrupted');
        if (attempt >= 3 || definitivePull.test(r.stderr)) {
          // The cause is said once per distinct error in the UserError below, not on every image's line.
          steps[i].fail('failed');
          failures.push({ c, err: new CommandFailed(`docker ${[...base(), 'pull', c.name].join(' ')}`, r.exitCode, r.stderr, r.stdout) });
          return;
        }
        steps[i].update(`retrying (attempt ${attempt + 1} of 3)`);
        await new Promise((res) => setTimeout(res, 2000 * attempt));
      }
    };
    // A few pulls at a time: parallel enough to fill the link, few enough to show progress.
    const queue = toPull.map((c, i) => () => pullOne(c, i));
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await job();
      }),
    );
    for (const [j, c] of toBuild.entries()) {
      const i = toPull.length + j;
      if (failures.length || ctx.signal.aborted) {
        steps[i].fail('skipped');
        continue;
      }
      const started = Date.now();
      const r = await exec.run('docker', [...base(), 'build', c.name], { env: composeEnv, signal: ctx.signal, allowFail: true });
      if (r.exitCode === 0) steps[i].ok(`${((Date.now() - started) / 1000).toFixed(1)}s`);
      else {
        steps[i].fail(ctx.signal.aborted ? 'interrupted' : stderrTail(r.stderr, 1));
        if (!ctx.signal.aborted) {
          throw new UserError({
            what: `building the ${c.name} image failed`,
            why: stderrTail(r.stderr, 1),
            details: stderrTail(r.stderr, 20).split('\n'),
            next: `set MOP_IMAGE_${c.name.toUpperCase()} to a prebuilt image, or run \`docker compose -f ${file} build ${c.name}\` to see the whole build`,
            exitCode: ExitCode.failure,
            code: 'IMAGE_BUILD_FAILED',
          });
        }
      }
    }
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('interrupted');
    if (failures.length) {
      const groups = pullFailureGroups(failures.map((f) => ({ image: f.c.image, stderr: f.err.stderr })));
      throw new UserError({
        what: failures.length === 1 ? `could not pull ${failures[0].c.image}` : `could not pull ${failures.length} images`,
        why: groups.length === 1 ? groups[0].cause : `${groups.length} different errors, each below with its images`,
        details: groups.length === 1 && failures.length === 1 ? stderrTail(failures[0].err.stderr, 5).split('\n') : groups.map((g) => `${g.cause}: ${g.images.join(', ')}`),
        next:
          'check the network and `docker login`; behind a mirror set MOP_REGISTRY_MIRROR=<host>/; offline, load the images first (`docker load`) or point MOP_IMAGE_<COMPONENT> at images you have',
        exitCode: ExitCode.preflight,
        code: 'IMAGE_PULL_FAILED',
      });
    }
  }

  /**
   * Each container's last exit and restart count before this `up` ran compose: an exit from before is what `up` is
   * here to repair (compose starts the container again), not a failure of this start.
   */
  type Baseline = Map<string, { finishedAt: string; restarts: number }>;
  async function baseline(): Promise<Baseline> {
    const list = await projectContainers();
    const entries = await Promise.all(
      list.map(async (c) => {
        const d = await client().getContainer(c.Id).inspect().catch(() => undefined);
        return d ? ([c.Id, { finishedAt: d.State.FinishedAt, restarts: d.RestartCount }] as const) : undefined;
      }),
    );
    return new Map(entries.filter((e) => e !== undefined));
  }

  /** One look at every pending component: container state, then the HTTP readiness probe on its published port. */
  async function observe(stack: Stack, pending: ComponentName[], before: Baseline = new Map()): Promise<Map<ComponentName, Observation>> {
    const services = byService(await projectContainers());
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
        const results = await Promise.all(containers.map((s) => observeContainer(stack, c, s, before.get(s.Id))));
        out.set(name, results.find((r) => r.kind === 'failed') ?? results.find((r) => r.kind === 'waiting') ?? { kind: 'ready' });
      }),
    );
    return out;
  }

  async function observeContainer(stack: Stack, c: Component, s: ContainerSummary, before?: { finishedAt: string; restarts: number }): Promise<Observation> {
    if (s.State === 'created') {
      const deps = c.dependsOn.map((d) => d.name);
      return { kind: 'waiting', detail: deps.length ? `waiting for ${deps.join(', ')}` : 'created' };
    }
    const d = await client().getContainer(s.Id).inspect();
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
      const pub = publishedPort(s, c.readiness.port);
      if (pub) {
        const url = `http://${probeHost(endpoint, pub.ip)}:${pub.port}${c.readiness.path}`;
        const r = await http(url);
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

  async function removeContainersAndNetworks(): Promise<{ containers: number; networks: number }> {
    const d = client();
    const list = await projectContainers();
    await Promise.all(
      list.map(async (c) => {
        const h = d.getContainer(c.Id);
        if (c.State === 'running' || c.State === 'restarting' || c.State === 'paused') await h.stop({ t: 10 }).catch(() => undefined);
        await h.remove({ force: true, v: true }).catch((e: { statusCode?: number }) => {
          if (e?.statusCode !== 404) throw e;
        });
      }),
    );
    const nets = (await d.listNetworks({ filters: { label: [`${projectLabel}=${project}`] } })).filter((n) => isOwn(n.Labels, project, n.Name));
    await Promise.all(nets.map((n) => d.getNetwork(n.Id).remove().catch(() => undefined)));
    return { containers: list.length, networks: nets.length };
  }

  async function failureError(stack: Stack, e: NotReady, timeoutMs: number): Promise<UserError> {
    if (e.reason === 'external') {
      const m = /Bind for ([\d.:[\]]+):(\d+) failed: port is already allocated|listen tcp[^:]*:? ?([\d.]+):(\d+): bind: address already in use/.exec(e.detail);
      if (m) {
        return new UserError({
          what: `host port ${m[2] ?? m[4]} was taken while the stack was starting`,
          why: e.detail.split('\n').slice(-1)[0],
          next: 'run `mop-sandbox doctor` to see who holds it, free it or choose another port (MOP_PORT_<COMPONENT>_<PORT>), then `mop-sandbox up`',
          exitCode: ExitCode.preflight,
          code: 'PORT_IN_USE',
        });
      }
      return new UserError({
        what: '`docker compose up` failed',
        why: stderrTail(e.detail, 1),
        details: stderrTail(e.detail, 15).split('\n'),
        next: `run \`mop-sandbox status\` and \`mop-sandbox logs\` to see what is running; \`mop-sandbox down\` removes it`,
        exitCode: ExitCode.failure,
        code: 'COMPOSE_FAILED',
      });
    }
    const services = byService(await projectContainers().catch(() => []));
    const details: string[] = [];
    for (const name of e.components) {
      for (const s of services.get(name) ?? []) {
        const lines = await logTail(client(), s.Id, logLines);
        details.push(`last ${lines.length} log lines of ${name} (${containerName(s)}):`, ...lines.map((l) => `  | ${l}`));
      }
    }
    const names = e.components.join(', ');
    const one = e.components.length === 1 ? e.components[0] : undefined;
    const full = diskFullLine(details);
    if (full) {
      return new UserError({
        what: `${names} ran out of disk space while the stack was starting`,
        why: `its log says: ${full.replace(/^\s*\|\s*/, '').trim().slice(0, 160)}`,
        details,
        next: `${diskFix}; then \`mop-sandbox up\``,
        exitCode: ExitCode.notReady,
        code: 'DISK_FULL',
      });
    }
    if (e.reason === 'failed') {
      const c = stack.components.find((x) => x.name === one);
      return new UserError({
        what: `${names} ${e.detail}${c?.oneShot ? ' before finishing its job' : ''}`,
        why: `${c?.title ?? names} stopped while the stack was starting`,
        details,
        next: `read the log lines above (\`mop-sandbox logs ${one ?? ''}\` shows more); fix the cause, then \`mop-sandbox up\` again, or \`mop-sandbox down\` to remove the stack`,
        exitCode: ExitCode.notReady,
        code: 'COMPONENT_FAILED',
      });
    }
    return new UserError({
      what: `${names} not ready after ${secs(timeoutMs)}`,
      why: `${e.detail.replace(/^not ready after [^(]*\((.*)\)$/, '$1')}`,
      details,
      next: `read the log lines above (\`mop-sandbox logs ${one ?? ''}\` shows more). On a slow machine or network, wait longer: \`mop-sandbox up --timeout ${Math.round((timeoutMs * 2) / 1000)}\`. \`mop-sandbox down\` removes the stack`,
      exitCode: ExitCode.notReady,
      code: 'COMPONENT_TIMEOUT',
    });
  }

  const runtime = {
    name: 'compose' as const,
    project,
    file,
    endpoint,
    engine: getEngine,
    /** The Docker client (dockerode unless injected). */
    docker: client,

    async preflight(stack: Stack): Promise<PreflightCheck[]> {
      // All at once: `docker compose version` alone takes half a second.
      const [d, compose, ports] = await Promise.all([
        checkDocker({ exec, env, platform, docker: client(), endpoint }),
        checkCompose({ exec, env, platform }),
        checkPorts(stack, { exec, docker: client(), ownProject: project, platform }),
      ]);
      if (d.engine) engine = d.engine;
      const checks: PreflightCheck[] = [d.check, compose, checkConfigFiles(stack, 'compose', { config: configDir, dashboards: dashboardsDir }), ...ports];
      if (d.engine) checks.push(checkMemory(stack, d.engine), checkLoopbackIsolation(d.engine), checkDisk(stack, await readDisk(stack, d.engine, deps.freeBytes)));
      return checks;
    },

    async exists(): Promise<boolean> {
      return (await projectContainers()).length > 0;
    },

    async up(stack: Stack, ctx: UpContext): Promise<ReadyTimes> {
      const timeoutMs = ctx.readyTimeoutMs ?? defaultReadyTimeoutMs;
      const composeEnv = { ...env, ...credentialEnv(ctx.credentials) };
      const interrupted = () =>
        new UserError({
          what: 'interrupted',
          why: 'Ctrl-C while the stack was starting',
          next: 'run `mop-sandbox up` to start again; data volumes were kept (`mop-sandbox down --purge` removes them)',
          exitCode: ExitCode.interrupted,
          code: 'INTERRUPTED',
        });
      // `compose up --remove-orphans` removes every container with the project label that the file does not name:
      // refuse before it can touch another project that happens to share the name.
      const foreign = (await labelledContainers()).filter((c) => !isOwn(c.Labels, project));
      if (foreign.length) throw projectTaken(project, foreign);
      await render(stack);
      try {
        await prepareImages(stack, ctx, composeEnv);
      } catch (e) {
        if (ctx.signal.aborted) throw interrupted();
        throw e;
      }
      if (ctx.signal.aborted) throw interrupted();

      const before = await baseline();
      // Start and wait at once: `compose up -d` blocks on depends_on (buckets must complete first), and a component
      // that fails meanwhile must stop the wait, so the watcher runs beside it from the first second.
      const startedAt = Date.now();
      const inner = new AbortController();
      const onAbort = () => inner.abort(ctx.signal.reason);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      let startError: Error | undefined;
      const start = exec
        .run('docker', [...base(), 'up', '-d', '--no-build', '--pull', 'never', '--remove-orphans'], { env: composeEnv, signal: inner.signal, allowFail: true })
        .then((r) => {
          if (r.exitCode !== 0 && !inner.signal.aborted) startError = new Error((r.stderr || r.stdout).trim() || `exit code ${r.exitCode}`);
        })
        .catch((e: Error) => {
          if (!inner.signal.aborted) startError = e;
        });
      const names = stack.components.map((c) => c.name);
      const groupSteps = ctx.out.group(names);
      const steps = new Map(names.map((n, i) => [n, groupSteps[i]] as const));
      try {
        const ready = await waitForReady({
          components: names,
          observe: (pending) => observe(stack, pending, before),
          startedAt,
          timeoutMs,
          intervalMs: deps.intervalMs ?? 200,
          signal: ctx.signal,
          external: () => startError,
          onWaiting: (n, detail) => steps.get(n)?.update(detail),
          onReady: (n, s) => steps.get(n)?.ok(`${n === 'buckets' ? `created ${stack.buckets.map((b) => b.name).join(', ')} in` : stack.components.find((c) => c.name === n)?.oneShot ? 'done in' : 'ready in'} ${s.toFixed(1)}s`),
        });
        await start;
        return ready;
      } catch (e) {
        inner.abort();
        // Let the compose process end before sweeping, so nothing is created behind our back.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([start, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
        clearTimeout(timer);
        if (ctx.signal.aborted) {
          for (const s of steps.values()) s.fail('interrupted');
          const sweep = ctx.out.step('interrupted: removing the containers started so far (data volumes stay)');
          const first = await removeContainersAndNetworks().catch(() => ({ containers: 0, networks: 0 }));
          // A create request compose sent just before it ended may land after the first sweep.
          await new Promise((r) => setTimeout(r, 300));
          const second = await removeContainersAndNetworks().catch(() => ({ containers: 0, networks: 0 }));
          sweep.ok(`removed ${first.containers + second.containers} containers`);
          throw interrupted();
        }
        if (e instanceof NotReady) {
          for (const [n, s] of steps) s.fail(e.components.includes(n) ? (e.reason === 'timeout' ? 'not ready' : e.detail) : 'stopped waiting');
          throw await failureError(stack, e, timeoutMs);
        }
        for (const s of steps.values()) s.fail();
        throw e;
      } finally {
        ctx.signal.removeEventListener('abort', onAbort);
      }
    },

    async status(stack: Stack): Promise<ComponentStatus[]> {
      const list = await projectContainers();
      if (!list.length) return [];
      const services = byService(list);
      const statuses = await Promise.all(
        stack.components.map(async (c): Promise<ComponentStatus> => {
          const s = services.get(c.name)?.[0];
          const ui = uiPort(stack, c.name);
          if (!s) return { name: c.name, state: 'missing', health: 'none' };
          const pub = ui ? publishedPort(s, ui.containerPort) : undefined;
          const url = pub ? `http://${probeHost(endpoint, pub.ip)}:${pub.port}${c.uiPath ?? '/'}` : undefined;
          const d = await client().getContainer(s.Id).inspect();
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
            const rp = publishedPort(s, c.readiness.port);
            if (rp) {
              const r = await http(`http://${probeHost(endpoint, rp.ip)}:${rp.port}${c.readiness.path}`);
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
          const full = diskFullLine(await logTail(client(), s.Id, logLines).catch(() => []));
          if (full) st.detail = `its disk is full ("${full.trim().slice(0, 120)}"); ${diskFix}`;
        }),
      );
      return statuses;
    },

    async disk(stack: Stack): Promise<DiskReading> {
      return readDisk(stack, await getEngine(), deps.freeBytes);
    },

    async logs(component: ComponentName | undefined, opts: LogOptions): Promise<void> {
      const list = (await projectContainers()).filter((c) => !component || c.Labels?.[serviceLabel] === component);
      if (!list.length) return;
      const prefix = list.length > 1 || !component;
      const width = Math.max(...list.map((c) => (c.Labels?.[serviceLabel] ?? '').length));
      const label = (c: ContainerSummary) => (prefix ? `${(c.Labels?.[serviceLabel] ?? containerName(c)).padEnd(width)} | ` : '');
      const d = client();
      if (!opts.follow) {
        const entries: { ts: string; line: string }[] = [];
        for (const c of list) {
          const h = d.getContainer(c.Id);
          const tty = Boolean((await h.inspect()).Config?.Tty);
          const raw = await h.logs({ stdout: true, stderr: true, tail: opts.tail, timestamps: true, follow: false });
          const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)), tty);
          for (const l of text.replace(/\r/g, '').split('\n')) {
            if (!l) continue;
            const sp = l.indexOf(' ');
            entries.push({ ts: l.slice(0, sp), line: label(c) + l.slice(sp + 1) });
          }
        }
        entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
        for (const e of entries) opts.write(e.line);
        return;
      }
      await Promise.all(
        list.map(async (c) => {
          const h = d.getContainer(c.Id);
          const tty = Boolean((await h.inspect()).Config?.Tty);
          const stream = (await h.logs({ stdout: true, stderr: true, tail: opts.tail, follow: true })) as NodeJS.ReadableStream & { destroy?(): void };
          const text = new PassThrough();
          if (tty || !d.modem) stream.pipe(text);
          else d.modem.demuxStream(stream, text, text);
          let buf = '';
          text.on('data', (chunk: Buffer) => {
            buf += chunk.toString('utf8');
            const lines = buf.split('\n');
            buf = lines.pop() ?? '';
            for (const l of lines) opts.write(label(c) + l.replace(/\r$/, ''));
          });
          await new Promise<void>((resolve) => {
            const end = () => {
              if (buf) opts.write(label(c) + buf);
              buf = '';
              resolve();
            };
            stream.on('end', end);
            stream.on('close', end);
            stream.on('error', end);
            opts.signal.addEventListener('abort', () => {
              stream.destroy?.();
              end();
            }, { once: true });
          });
        }),
      );
    },

    async down(opts: { purge: boolean }): Promise<DownResult> {
      const { containers, networks } = await removeContainersAndNetworks().catch((e) => {
        throw e instanceof UserError ? e : unreachableError(endpoint, e, platform);
      });
      const vols = ((await client().listVolumes({ filters: { label: [`${projectLabel}=${project}`] } })).Volumes ?? []).filter((v) => isOwn(v.Labels, project));
      let removed = 0;
      if (opts.purge) {
        await Promise.all(vols.map((v) => client().getVolume(v.Name).remove()));
        removed = vols.length;
        await removeUnder(stateDir(env), join(stateDir(env), 'compose'));
      }
      return { containers, networks, volumes: removed, volumesKept: opts.purge ? 0 : vols.length };
    },
  } satisfies Runtime & Record<string, unknown>;
  return runtime;
}

export type ComposeRuntime = ReturnType<typeof createComposeRuntime>;
