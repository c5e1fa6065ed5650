/**
 * What every stage of the compose runtime works with: `docker compose -p <project> -f <stateDir>/compose/docker-compose.yml`
 * (v2) through the exec wrapper to create things, dockerode to look at them (states, health, logs, port holders)
 * and to remove them by the compose project label, so `down` works even when the compose file is gone or the stack
 * is broken.
 */
import { join } from 'node:path';
import { type ContainerSummary, createDocker, type DockerApi, type DockerEndpoint, type Engine, inspectEngine, resolveEndpoint, unreachableError } from '../../lib/docker.js';
import { usageError } from '../../lib/errors.js';
import type { Exec } from '../../lib/exec.js';
import { type Credentials, stateDir } from '../../lib/state.js';
import { secretEnvName } from '../../render/common.js';
import { type ComponentName, defaultStackId, secretNames, type Stack, stackLabel } from '../../stack/model.js';
import type { FreeBytes } from '../disk.js';
import type { HostProbe } from '../engine-plan.js';
import { httpProbe } from '../readiness.js';
import type { RuntimeDeps } from '../runtime.js';

export const projectLabel = 'com.docker.compose.project';
export const serviceLabel = 'com.docker.compose.service';
export const componentLabel = 'com.mop-sandbox.component';
export const defaultProject = defaultStackId;
export const logLines = 50;

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
 * Where a component's container port is reachable from the host. A port the gateway fronts (the model's `publisher`)
 * is published by the gateway's container under the same number: `waiting` says so while that container is missing.
 */
export function publishedFor(
  stack: Stack,
  services: Map<string, ContainerSummary[]>,
  own: ContainerSummary,
  component: ComponentName,
  containerPort: number,
): { ip: string; port: number } | { waitingFor: ComponentName } | undefined {
  const publisher = stack.published.find((x) => x.component === component && x.containerPort === containerPort)?.publisher ?? component;
  if (publisher === component) return publishedPort(own, containerPort);
  const holder = services.get(publisher)?.find((x) => x.State === 'running');
  return (holder && publishedPort(holder, containerPort)) ?? { waitingFor: publisher };
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

type HttpProbe = typeof httpProbe;

export interface ComposeRuntimeDeps extends RuntimeDeps {
  /** Injected readiness probe (unit tests). */
  http?: HttpProbe;
  /** Poll interval while waiting (ms). */
  intervalMs?: number;
  /** Injected statfs (unit tests). */
  freeBytes?: FreeBytes;
  /** Injected host facts for the engine plan: sockets, cgroup delegation (unit tests). */
  hostProbe?: HostProbe;
}

/** The compose runtime's context, passed to every stage function (the Docker client and engine load on first use). */
export interface ComposeContext {
  readonly deps: ComposeRuntimeDeps;
  readonly exec: Exec;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  readonly project: string;
  readonly endpoint: DockerEndpoint;
  /** The compose file `up` writes. */
  readonly file: string;
  readonly http: HttpProbe;
  docker?: DockerApi;
  engine?: Engine;
}

export function createComposeContext(deps: ComposeRuntimeDeps): ComposeContext {
  const platform = deps.platform ?? process.platform;
  return {
    deps,
    exec: deps.exec,
    env: deps.env,
    platform,
    project: projectName(deps.env),
    endpoint: resolveEndpoint(deps.env, platform),
    file: composeFilePath(deps.env),
    http: deps.http ?? httpProbe,
    docker: deps.docker,
  };
}

/** The Docker client (dockerode unless injected). */
export const client = (cx: ComposeContext): DockerApi => (cx.docker ??= createDocker(cx.endpoint, cx.env));

export async function getEngine(cx: ComposeContext): Promise<Engine> {
  if (cx.engine) return cx.engine;
  try {
    cx.engine = await inspectEngine(client(cx), cx.endpoint);
    return cx.engine;
  } catch (e) {
    throw unreachableError(cx.endpoint, e, cx.platform);
  }
}

export const base = (cx: ComposeContext) => ['compose', '-p', cx.project, '-f', cx.file];

/** Everything compose counts as this project, ours or not (compose selects by the project label alone). */
export async function labelledContainers(cx: ComposeContext): Promise<ContainerSummary[]> {
  try {
    return await client(cx).listContainers({ all: true, filters: { label: [`${projectLabel}=${cx.project}`] } });
  } catch (e) {
    throw unreachableError(cx.endpoint, e, cx.platform);
  }
}

/** This stack's containers: the project label and ours (another project with the same name is never touched). */
export async function projectContainers(cx: ComposeContext): Promise<ContainerSummary[]> {
  return (await labelledContainers(cx)).filter((c) => isOwn(c.Labels, cx.project));
}

/** This stack's volumes (the project label and ours), which `down` keeps unless `--purge`. */
export async function ownVolumes(cx: ComposeContext): Promise<string[]> {
  const { Volumes } = await client(cx).listVolumes({ filters: { label: [`${projectLabel}=${cx.project}`] } });
  return (Volumes ?? []).filter((v) => isOwn(v.Labels, cx.project)).map((v) => v.Name);
}

export const byService = (list: ContainerSummary[]) => {
  const m = new Map<string, ContainerSummary[]>();
  for (const c of list) {
    const s = c.Labels?.[serviceLabel];
    if (s) m.set(s, [...(m.get(s) ?? []), c]);
  }
  return m;
};
