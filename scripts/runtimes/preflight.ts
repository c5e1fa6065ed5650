/**
 * Preflight checks shared by `up` (stops before anything is created) and `doctor` (runs them all, with a fix each):
 * Docker reachable (and which product answered), compose v2, every host port free, memory for the profile,
 * the package's config files present.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeName, Stack } from '../stack/model.js';
import type { PreflightCheck } from './runtime.js';
import { ExitCode, UserError, type ErrorCode } from '../lib/errors.js';
import { TIMEOUT_EXIT, type Exec, type RunResult } from '../lib/exec.js';
import { BUILDX_STRICT_COMPOSE, compareVersions, composeRequirement, MIN_BUILDX, parseVersion, type ComposeFeature } from './compose-version.js';
import { createDocker, inspectEngine, resolveEndpoint, unreachableError, withTimeout, type DockerApi, type DockerEndpoint, type Engine } from '../lib/docker.js';
import { engineResourcesFix } from './engine-resources.js';
import { containerOnPort, portFree, describeHolder, findPortHolder, holderFix } from '../lib/ports.js';

export interface PreflightDeps {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Injected client (tests); otherwise one is made for the resolved endpoint. */
  docker?: DockerApi;
  endpoint?: DockerEndpoint;
}

export interface DockerCheck {
  check: PreflightCheck;
  engine?: Engine;
  docker?: DockerApi;
  error?: UserError;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export async function checkDocker(deps: PreflightDeps): Promise<DockerCheck> {
  const platform = deps.platform ?? process.platform;
  const endpoint = deps.endpoint ?? resolveEndpoint(deps.env, platform);
  const title = 'Docker engine reachable';
  try {
    const docker = deps.docker ?? createDocker(endpoint, deps.env);
    const engine = await inspectEngine(docker, endpoint);
    const via = endpoint.source === 'DOCKER_HOST' ? ' (DOCKER_HOST)' : endpoint.source === 'context' ? ` (context "${endpoint.context}")` : '';
    return {
      check: { id: 'docker', title, ok: true, severity: 'error', detail: `${engine.product}, Engine ${engine.version} (API ${engine.apiVersion}) at ${endpoint.host}${via}` },
      engine,
      docker,
    };
  } catch (e) {
    const error = e instanceof UserError ? e : unreachableError(endpoint, e, platform);
    return { check: { id: 'docker', title, ok: false, severity: 'error', detail: `${error.what}${error.why ? `: ${error.why}` : ''}`, fix: error.next }, error };
  }
}

/** The first Docker Engine release that drops packets for ports published on 127.0.0.1 arriving from other hosts. */
export const LOOPBACK_ISOLATED_ENGINE = 28;

/**
 * Before Engine 28 a host on the same network segment can reach ports published on 127.0.0.1 of a native Linux
 * engine by routing packets for 127.0.0.1 to this machine (moby/moby#45610, fixed by the 28.0 iptables rules of
 * moby#48815). Engines in a VM (Docker Desktop, OrbStack, Colima, Rancher Desktop) sit behind NAT; Podman uses
 * its own port forwarder. A warning, not a failure: the stack still works, but its unauthenticated APIs leak.
 */
export function checkLoopbackIsolation(engine: Pick<Engine, 'product' | 'version'>): PreflightCheck {
  const title = 'published ports stay on this machine';
  const major = Number(engine.version.split('.')[0]);
  if (engine.product !== 'dockerd' || !Number.isFinite(major) || major >= LOOPBACK_ISOLATED_ENGINE) {
    return { id: 'loopback', title, ok: true, severity: 'warn', detail: `${engine.product} ${engine.version} keeps 127.0.0.1 ports local` };
  }
  return {
    id: 'loopback',
    title,
    ok: false,
    severity: 'warn',
    detail: `Docker Engine ${engine.version} lets hosts on the same network reach ports published on 127.0.0.1 (moby/moby#45610), and Loki, Mimir, Tempo and the store there need no password`,
    fix: `upgrade Docker Engine to ${LOOPBACK_ISOLATED_ENGINE}.0 or later, or use the stack only on a network you trust`,
  };
}

export const composeInstallHint =
  'install compose v2: Docker Desktop, OrbStack and Colima include it; on Linux install the `docker-compose-plugin` package from Docker\'s apt/rpm repository, or put the `docker-compose` v2 binary in ~/.docker/cli-plugins/';

/** What the docker CLI prints when no compose plugin is installed (old and new wording). */
const composeMissing = /'compose' is not a docker command|unknown command:? (docker )?compose|unknown shorthand flag: 'f'/i;

/**
 * compose v2, at least the release that supports every feature `needs` lists (derived from the rendered file:
 * `composeNeeds`). Only a missing plugin or an old release is blamed on compose: a CLI that cannot start or does not
 * answer is reported as that.
 */
export async function checkCompose(
  deps: PreflightDeps & { needs?: ComposeFeature[] | Promise<ComposeFeature[]> },
): Promise<PreflightCheck & { version?: string }> {
  const title = 'docker compose v2 present';
  if (!(await deps.exec.which('docker'))) {
    const install = `${composeInstallHint} (${composeRequirement(await (deps.needs ?? [])).required} or later)`;
    return { id: 'compose', title, ok: false, severity: 'error', detail: 'the `docker` CLI is not on PATH', fix: `install the Docker CLI, then ${install}` };
  }
  let r: RunResult;
  try {
    r = await deps.exec.run('docker', ['compose', 'version', '--short'], { env: deps.env, allowFail: true, timeoutMs: 15_000 });
  } catch (e) {
    // Not compose's fault: the docker CLI itself could not be started.
    return { id: 'compose', title, ok: false, severity: 'error', detail: `the docker CLI could not be started: ${(e as Error).message}`, fix: 'reinstall the Docker CLI, then run `docker version` to check it starts' };
  }
  let podman = podmanComposeAdvice(`${r.stdout}\n${r.stderr}`);
  if (!podman && r.exitCode !== 0) {
    // Podman's docker shim fails before any compose runs (podman 4.3: "unknown flag: --short"); `docker --version` tells.
    const v = await deps.exec.run('docker', ['--version'], { env: deps.env, allowFail: true, timeoutMs: 15_000 }).catch(() => undefined);
    if (v && /podman/i.test(v.stdout)) podman = podmanComposeAdvice('unrecognized command `podman compose`');
  }
  if (podman) return { id: 'compose', title, ok: false, severity: 'error', ...podman };
  // The needs may still be being worked out (they depend on the engine's API version): awaited after the CLI answered.
  const needs = await (deps.needs ?? []);
  const { required } = composeRequirement(needs);
  const install = `${composeInstallHint} (${required} or later)`;
  const said = (r.stderr || r.stdout).trim().split('\n')[0];
  if (r.exitCode !== 0 && !composeMissing.test(r.stderr + r.stdout)) {
    const detail =
      r.exitCode === TIMEOUT_EXIT
        ? '`docker compose version` did not answer within 15s'
        : `\`docker compose version\` failed (${said || `exit ${r.exitCode}`})`;
    return { id: 'compose', title, ok: false, severity: 'error', detail, fix: 'run `docker compose version` to see why; the docker CLI must start without errors' };
  }
  const version = r.stdout.trim().replace(/^v/, '');
  const major = parseVersion(version)?.[0];
  if (r.exitCode !== 0 || major === undefined || major < 2) {
    return {
      id: 'compose',
      title,
      ok: false,
      severity: 'error',
      detail: r.exitCode !== 0 ? `\`docker compose\` is not available (${said || `exit ${r.exitCode}`})` : `found compose ${version || '(no version)'}, need ${required} or later`,
      fix: install,
    };
  }
  const { missing } = composeRequirement(needs, version);
  if (missing.length) {
    return {
      id: 'compose',
      title,
      ok: false,
      severity: 'error',
      detail: `found compose ${version}; the compose file needs ${missing[0].since} or later for ${missing.map((m) => `${m.feature} (${m.since})`).join(', ')}`,
      fix: `upgrade compose to ${required} or later: Docker Desktop, OrbStack and Colima update it with the app; on Linux upgrade the \`docker-compose-plugin\` package from Docker's apt/rpm repository`,
      version,
    };
  }
  return { id: 'compose', title, ok: true, severity: 'error', detail: `compose ${version}${needs.length ? ` (the file needs ${required} or later)` : ''}`, version };
}

/**
 * Compose from 2.40.2 refuses to build ("compose build requires buildx 0.17 or later") when an older buildx plugin
 * is installed; without buildx it falls back to the classic builder. A warning: only stacks that build an image
 * (the demo) are affected, and `MOP_IMAGE_DEMO` avoids the build.
 */
export async function checkBuildx(deps: PreflightDeps, composeVersion: string | undefined): Promise<PreflightCheck | undefined> {
  if (!composeVersion || compareVersions(composeVersion, BUILDX_STRICT_COMPOSE) < 0) return undefined;
  const r = await deps.exec.run('docker', ['buildx', 'version'], { env: deps.env, allowFail: true, timeoutMs: 15_000 }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined; // no buildx plugin: compose uses the classic builder
  const found = /v?(\d+\.\d+\.\d+)/.exec(r.stdout)?.[1];
  const title = 'buildx new enough for compose build';
  if (!found || compareVersions(found, MIN_BUILDX) >= 0) return { id: 'buildx', title, ok: true, severity: 'warn', detail: `buildx ${found ?? '(version not understood)'}` };
  return {
    id: 'buildx',
    title,
    ok: false,
    severity: 'warn',
    detail: `compose ${composeVersion} needs buildx ${MIN_BUILDX} or later to build the demo image; found buildx ${found}`,
    fix: 'upgrade the buildx plugin (`docker-buildx-plugin` package, or Docker Desktop), or remove it so compose uses the classic builder, or set MOP_IMAGE_DEMO to a prebuilt image',
  };
}

/**
 * Podman users' `docker compose`: with the podman-docker shim, `docker` is Podman, whose `podman compose` (4.7+)
 * runs a provider: docker-compose v2 when found, else podman-compose (podman cmd/podman/compose.go, compose_providers
 * in containers.conf(5)). podman-compose is not compose v2 (no `up --pull never`, its own labels and names), and
 * 1.0.x does not know `version --short`; a Podman older than 4.7 has no `compose` at all.
 */
export function podmanComposeAdvice(output: string): { detail: string; fix: string } | undefined {
  const useV2 =
    'install the docker-compose v2 binary (https://github.com/docker/compose/releases) as `docker-compose` on PATH: `podman compose` uses it before podman-compose (or name it: PODMAN_COMPOSE_PROVIDER=/path/to/docker-compose); DOCKER_HOST must point at the Podman socket';
  if (/podman-compose|podman-composer/i.test(output)) {
    return { detail: '`docker compose` runs podman-compose, which is not compose v2 (mop-sandbox needs compose v2\'s `up --pull never`, labels and names)', fix: useV2 };
  }
  if (/unrecognized command `podman compose`/i.test(output)) {
    return {
      detail: '`docker` is Podman (the podman-docker shim), and this Podman has no `compose` command (it came in Podman 4.7)',
      fix: `install the Docker CLI with its compose v2 plugin (Docker's docker-ce-cli and docker-compose-plugin packages) and set DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock (rootful: unix:///run/podman/podman.sock), or upgrade Podman to 4.7+ and ${useV2}`,
    };
  }
  return undefined;
}

export const portSetting = (component: string, name: string) => `MOP_PORT_${component.toUpperCase()}_${name.toUpperCase().replace(/-/g, '_')}`;

/**
 * One check per published port that is taken, or one passing check. Ports held by containers of `ownProject`
 * count as free (the stack itself is running).
 */
export async function checkPorts(
  stack: Stack,
  deps: { exec: Exec; docker?: DockerApi; ownProject?: string; platform?: NodeJS.Platform },
): Promise<PreflightCheck[]> {
  const failures: PreflightCheck[] = [];
  const seen = new Map<number, string>();
  // One look at the engine's published ports (a hung remote engine must not hang the check).
  const list = deps.docker ? await withTimeout(deps.docker.listContainers({ all: false }), 5000, 'the Docker engine').catch(() => undefined) : undefined;
  const listing: DockerApi | undefined = list && deps.docker ? { ...deps.docker, listContainers: async () => list } : undefined;
  const results = await Promise.all(
    stack.published.map(async (p) => {
      const own = listing ? await containerOnPort(listing, p.hostPort, p.hostIp) : undefined;
      if (own && own.project && own.project === deps.ownProject) return { p, holder: undefined };
      if (own) return { p, holder: own };
      if (await portFree(p.hostIp, p.hostPort)) return { p, holder: undefined };
      // The full client, not the snapshot: a forwarder is traced to its container by address, in any state.
      const holder = await findPortHolder(p.hostPort, { docker: listing ? deps.docker : undefined, exec: deps.exec, platform: deps.platform, hostIp: p.hostIp });
      if (holder.kind === 'container' && holder.project && holder.project === deps.ownProject) return { p, holder: undefined };
      return { p, holder };
    }),
  );
  for (const { p, holder } of results) {
    const key = `${p.component}.${p.name}`;
    const dup = seen.get(p.hostPort);
    if (dup) {
      failures.push({
        id: `port:${key}`,
        title: `host port ${p.hostPort} free`,
        ok: false,
        severity: 'error',
        detail: `${key} and ${dup} are both set to host port ${p.hostPort}`,
        fix: `choose another port: ${portSetting(p.component, p.name)}=<port>`,
      });
    }
    seen.set(p.hostPort, key);
    if (!holder) continue;
    failures.push({
      id: `port:${key}`,
      title: `host port ${p.hostIp}:${p.hostPort} free (${key})`,
      ok: false,
      severity: 'error',
      detail: `${p.hostIp}:${p.hostPort} (${key}) is taken by ${describeHolder(holder)}`,
      fix: holderFix(holder, portSetting(p.component, p.name)),
    });
  }
  if (failures.length) return failures;
  return [{ id: 'ports', title: 'host ports free', ok: true, severity: 'error', detail: `${stack.published.length} ports free on ${stack.bindAddress}` }];
}

/** "256Mi" | "1Gi" | "512M" | "1G" | plain bytes -> bytes. */
export function parseBytes(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|K|M|G|T)?i?B?$/i.exec(s.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  const pow: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 1024, mi: 1024 ** 2, gi: 1024 ** 3, ti: 1024 ** 4 };
  return n * pow[unit];
}

export function memoryNeeds(stack: Stack): { requests: number; limits: number } {
  let requests = 0;
  let limits = 0;
  for (const c of stack.components) {
    requests += parseBytes(c.resources.requests.memory);
    limits += parseBytes(c.resources.limits.memory);
  }
  return { requests, limits };
}

/**
 * Engine memory to recommend: every limit, plus 1 GiB for the VM's own system and the engine. Compose sets only
 * limits (no reservations), so the limits are what the stack can use; a lighter profile's smaller requests do not
 * lower them, which is why the fix never suggests `--profile dev`.
 */
export function recommendedEngineGiB(stack: Stack): number {
  return Math.ceil(memoryNeeds(stack).limits / 1024 ** 3) + 1;
}

export function checkMemory(stack: Stack, engine: Pick<Engine, 'memTotal' | 'product' | 'kernel'>, platform: NodeJS.Platform = process.platform): PreflightCheck {
  const { requests, limits } = memoryNeeds(stack);
  const title = `memory for the ${stack.profile.name} profile`;
  const fix = engineResourcesFix(engine, platform, { gib: recommendedEngineGiB(stack) });
  if (!engine.memTotal) return { id: 'memory', title, ok: true, severity: 'warn', detail: 'the engine does not report its memory' };
  if (engine.memTotal < requests) {
    return { id: 'memory', title, ok: false, severity: 'error', detail: `the engine has ${gib(engine.memTotal)}, the ${stack.profile.name} profile needs at least ${gib(requests)} (its requests)`, fix };
  }
  if (engine.memTotal < limits) {
    return {
      id: 'memory',
      title,
      ok: false,
      severity: 'warn',
      detail: `the engine has ${gib(engine.memTotal)}: enough for the requests (${gib(requests)}) but not the limits (${gib(limits)}); components may be OOM-killed under load`,
      fix,
    };
  }
  return { id: 'memory', title, ok: true, severity: 'error', detail: `${gib(engine.memTotal)} available, ${gib(requests)} requested` };
}

export function checkConfigFiles(stack: Stack, runtime: RuntimeName, dirs: { config: string; dashboards: string }): PreflightCheck {
  const missing: string[] = [];
  for (const c of stack.components) {
    for (const f of c.configFiles) {
      if (f.runtimes && !f.runtimes.includes(runtime)) continue;
      const path = join(f.from === 'dashboards' ? dirs.dashboards : dirs.config, f.source);
      if (!existsSync(path)) missing.push(path);
    }
  }
  const title = 'component config files present';
  if (missing.length) {
    return { id: 'config', title, ok: false, severity: 'error', detail: `missing: ${missing.join(', ')}`, fix: 'reinstall the package (`npm install mop-sandbox`); these files ship with it' };
  }
  return { id: 'config', title, ok: true, severity: 'error', detail: `all present under ${dirs.config}` };
}

const codeFor = (id: string): ErrorCode =>
  id === 'docker' ? 'DOCKER_UNREACHABLE' : id === 'compose' ? 'COMPOSE_MISSING' : id.startsWith('port') ? 'PORT_IN_USE' : id === 'memory' ? 'MEMORY_LOW' : id === 'disk' ? 'DISK_LOW' : id === 'cpu' ? 'CPU_LOW' : id === 'config' ? 'CONFIG_MISSING' : 'PREFLIGHT_FAILED';

/** The UserError for the failed blocking checks (undefined when none failed). */
export function preflightError(checks: PreflightCheck[], dockerError?: UserError): UserError | undefined {
  const failed = checks.filter((c) => !c.ok && c.severity === 'error');
  if (!failed.length) return undefined;
  const [first, ...rest] = failed;
  if (first.id === 'docker' && dockerError && !rest.length) return dockerError;
  return new UserError({
    what: failed.length === 1 ? first.detail : `${failed.length} preflight checks failed; nothing was created`,
    why: failed.length === 1 ? undefined : 'each is listed below with its fix',
    next: failed.length === 1 ? first.fix : 'fix each, then run the command again (`mop-sandbox doctor` re-checks without starting anything)',
    details: failed.length === 1 ? [] : failed.map((c) => `✗ ${c.detail}${c.fix ? `\n    fix: ${c.fix}` : ''}`),
    exitCode: ExitCode.preflight,
    code: codeFor(first.id),
  });
}
