/**
 * The compose renderer: one compose file (compose-spec, docker compose v2) from the stack model.
 * Secrets never appear in the file: each is a required `${MOP_*}` variable, filled from the process
 * environment (the compose runtime) or from a `.env` file next to the compose file (by hand).
 */
import { readFileSync } from 'node:fs';
import type { Credentials } from '../lib/state.js';
import { packageRoot } from '../lib/paths.js';
import { defaultStackId, envOn, secretNames, stackIdEnv, stackLabel, userOn, type Component, type Dependency, type Stack } from '../stack/model.js';
import {
  assertSourceExists,
  configFilesFor,
  DASHBOARDS_TARGET,
  defaultSources,
  displayPath,
  GENERATED,
  listDashboards,
  mountsDashboards,
  parseUser,
  quantityBytes,
  quantityCpus,
  readSource,
  secretEnvName,
  type RenderFile,
  type SourceDirs,
} from './common.js';
import { toYaml } from './yaml.js';
import { GATEWAY } from '../stack/gateway.js';
import { images, imageRef } from '../stack/versions.js';
import { PROXIED_SOCKET, SOCKET_PROXY, SOCKET_PROXY_NETWORK, SOCKET_PROXY_USER, socketProxyEnv, socketProxyScript } from '../stack/socket-proxy.js';

export interface ComposePaths {
  /** The config/ folder, relative to the compose file's directory (or absolute). */
  config: string;
  /** The dashboards/ folder. */
  dashboards: string;
  /** Build context for locally built images (the package root). */
  buildContext: string;
}

export interface ComposeOptions {
  projectName?: string;
  paths?: ComposePaths;
  /** Adds healthcheck.start_interval; needs Docker Engine >= 25 (compose refuses it on older engines). */
  startInterval?: boolean;
  /** Where config files are checked for existence (default: the package's config/ and dashboards/). */
  sources?: SourceDirs;
  /** Extra header comment lines (how to regenerate this copy). */
  header?: string[];
  /** What the engine needs (default: a Docker Engine with its socket at /var/run/docker.sock). */
  engine?: EngineAdaptations;
}

/** How the compose file adapts to the engine it runs on (scripts/runtimes/engine-plan.ts decides). */
export interface EngineAdaptations {
  /**
   * The engine's Docker socket, as a path in the engine's filesystem (inside the VM for VM products), mounted into the
   * socket proxy that Alloy reads the Docker API through; undefined when it cannot be mounted: no socket proxy, and
   * Alloy runs without container-log collection.
   */
  dockerSocket: string | undefined;
  /**
   * The socket's group on a rootful dockerd of this machine: the socket proxy then runs as the Node image's user with
   * that group added, instead of root. Undefined (every other engine, `render --out`): root.
   */
  dockerSocketGroup?: number;
  /** Podman: SELinux labels off for containers that mount host files (Podman relabels nothing by itself). */
  disableSelinuxLabels: boolean;
  /** false when a rootless engine cannot set CPU limits (the cgroup cpu controller is not delegated to the user). */
  cpuLimits: boolean;
}

/** The render for a Docker Engine whose socket is /var/run/docker.sock (the committed file, `render --out`). */
export const defaultEngine: EngineAdaptations = { dockerSocket: '/var/run/docker.sock', disableSelinuxLabels: false, cpuLimits: true };

/** The committed compose/docker-compose.yml lives one level below the package root. */
export const committedComposePaths: ComposePaths = { config: '../config', dashboards: '../dashboards', buildContext: '..' };

// A typed subset of the compose spec: catches typos at compile time; the schema test checks the rest.
interface ComposeHealthcheck {
  test: string[];
  interval: string;
  timeout: string;
  retries: number;
  start_period: string;
  start_interval?: string;
}
interface ComposeMount {
  type: 'bind' | 'volume';
  source: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path: boolean };
}
interface ComposeService {
  image: string;
  build?: { context: string; dockerfile: string };
  entrypoint?: string[];
  command?: string[];
  user?: string;
  group_add?: string[];
  read_only?: boolean;
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: ComposeMount[];
  healthcheck?: ComposeHealthcheck;
  depends_on?: Record<string, { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully' }>;
  privileged?: boolean;
  pid?: string;
  cap_drop?: string[];
  cap_add?: string[];
  security_opt?: string[];
  network_mode?: string;
  restart: 'no' | 'unless-stopped';
  deploy?: { resources: { limits: { cpus?: number; memory: string; pids?: number } } };
  networks?: Record<string, { aliases?: string[] }>;
  labels: Record<string, string>;
}
export interface ComposeFile {
  name: string;
  services: Record<string, ComposeService>;
  networks: Record<string, { labels: Record<string, string> }>;
  volumes?: Record<string, { labels: Record<string, string> }>;
}

/**
 * The one-shot service that gives non-root components their data volumes: a fresh volume on a directory the image
 * does not have (or has root-owned) is root-owned. It runs as root with only the capabilities chown needs, no
 * network, and changes nothing when the owner is already right.
 */
export const DATA_OWNER_SERVICE = 'data-owner';

/** Compose interpolates `$` everywhere; literal dollars (shell scripts, templates) must be doubled. */
const literal = (s: string) => s.replace(/\$/g, '$$$$');

export const composeSecretVar = secretEnvName;

function secretRef(name: (typeof secretNames)[number]): string {
  return `\${${secretEnvName(name)}:?is not set: run mop-sandbox up once or put it in the .env file next to this compose file}`;
}

/** Healthcheck timings: fast first result (ready checks matter for `up`), tolerant afterwards. */
function healthcheck(c: Component, startInterval: boolean): ComposeHealthcheck | undefined {
  if (!c.healthcheck) return undefined;
  return {
    test: ['CMD', ...c.healthcheck.map(literal)],
    interval: '5s',
    timeout: '3s',
    retries: 6,
    start_period: '120s',
    ...(startInterval ? { start_interval: '1s' } : {}),
  };
}

function dependsOn(c: Component, stack: Stack, engine: EngineAdaptations): ComposeService['depends_on'] {
  const byName = new Map(stack.components.map((x) => [x.name, x]));
  const out: NonNullable<ComposeService['depends_on']> = {};
  if (needsOwner(c, stack)) out[DATA_OWNER_SERVICE] = { condition: 'service_completed_successfully' };
  if (readsDockerApi(c, engine)) out[SOCKET_PROXY] = { condition: 'service_started' };
  const condition = (d: Dependency) => {
    if (d.condition === 'completed') return 'service_completed_successfully' as const;
    // A component without an in-container health check can only be waited on as started.
    if (d.condition === 'healthy' && byName.get(d.name)?.healthcheck) return 'service_healthy' as const;
    return 'service_started' as const;
  };
  for (const d of c.dependsOn) if (byName.has(d.name)) out[d.name] = { condition: condition(d) };
  return Object.keys(out).length ? out : undefined;
}

/** Kubernetes quantity to a docker memory string (binary units, as docker reads them). */
export function composeMemory(q: string): string {
  const bytes = quantityBytes(q);
  if (bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30}G`;
  if (bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20}M`;
  if (bytes % 2 ** 10 === 0) return `${bytes / 2 ** 10}K`;
  return `${bytes}b`;
}

/** Alloy on an engine whose socket can be mounted: it reads the Docker API through the socket proxy. */
const readsDockerApi = (c: Component, engine: EngineAdaptations) => Boolean(c.collectsLogs && engine.dockerSocket);

/** Whether the compose file has the socket proxy: exactly when Alloy reads the Docker API. */
export const hasSocketProxy = (stack: Stack, engine: EngineAdaptations) => stack.components.some((c) => readsDockerApi(c, engine));

/** The image the ownership step runs (the bucket job's: mc on ubi-micro has sh, stat, chown), if the stack has one. */
const ownerImage = (stack: Stack) => stack.components.find((c) => c.oneShot)?.image;

/**
 * The ownership step runs for a component whose fresh volume its image does not give to its user (dataDirNeedsOwner),
 * and for Alloy: earlier versions ran it as root on compose, and a volume from such a run holds root's files (read
 * positions) that uid 473 could not write.
 */
const needsOwner = (c: Component, stack: Stack) =>
  Boolean(c.dataDir && ownerImage(stack) && parseUser(userOn(c, 'compose')).uid !== 0 && (c.dataDirNeedsOwner || c.collectsLogs));

/** The ownership step, or undefined when no component needs it. Uses the bucket job's image (mc on ubi-micro: sh, stat, chown). */
function dataOwnerService(stack: Stack, labels: Record<string, string>): ComposeService | undefined {
  const owned = stack.components.filter((c) => needsOwner(c, stack));
  const image = ownerImage(stack);
  if (!owned.length || !image) return undefined;
  const script = owned
    .map((c) => {
      const { uid, gid } = parseUser(userOn(c, 'compose'));
      const dir = `/own/${c.name}`;
      // Alloy's data may hold files an earlier root run wrote under a directory it already owns: always all of it.
      if (c.collectsLogs) return `chown -R ${uid}:${gid} ${dir} || exit 1`;
      return `[ "$(stat -c %u:%g ${dir})" = "${uid}:${gid}" ] || chown -R ${uid}:${gid} ${dir} || exit 1`;
    })
    .join('; ');
  return {
    image,
    entrypoint: ['/bin/sh', '-c'],
    command: [literal(script)],
    user: '0:0',
    volumes: owned.map((c) => ({ type: 'volume', source: `${c.name}-data`, target: `/own/${c.name}` })),
    cap_drop: ['ALL'],
    cap_add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'],
    security_opt: ['no-new-privileges:true'],
    network_mode: 'none',
    restart: 'no',
    labels: { ...labels, 'com.mop-sandbox.component': DATA_OWNER_SERVICE },
  };
}

/**
 * The socket proxy (scripts/stack/socket-proxy.ts), when the engine's socket can be mounted: the only container with
 * the socket. It runs the gateway's Node image (an image override of the gateway applies to it too) as the image's
 * non-root user with the socket's group where the engine plan knows it, otherwise as root, which owns the socket on
 * every other engine it can be mounted from (no capability is needed to connect as the owner). Nothing is writable
 * and nothing is published; only Alloy shares its network. Unless every container's logs are collected, it lists
 * and reads only the stack's own containers (`project`: the stack label's value).
 */
function socketProxyService(stack: Stack, project: string, labels: Record<string, string>, engine: EngineAdaptations, opts: { configDir: string; sources: SourceDirs }): ComposeService | undefined {
  const socket = engine.dockerSocket;
  if (!socket || !hasSocketProxy(stack, engine)) return undefined;
  assertSourceExists(socketProxyScript, opts.sources, SOCKET_PROXY);
  const image = stack.components.find((c) => c.name === GATEWAY)?.image ?? imageRef(images.node);
  const security = ['no-new-privileges:true', ...(engine.disableSelinuxLabels ? ['label=disable'] : [])];
  return {
    image,
    entrypoint: ['node', socketProxyScript.target],
    user: engine.dockerSocketGroup !== undefined ? SOCKET_PROXY_USER : '0:0',
    ...(engine.dockerSocketGroup !== undefined ? { group_add: [String(engine.dockerSocketGroup)] } : {}),
    environment: socketProxyEnv(stack.collectAllLogs ? undefined : `${stackLabel}=${project}`),
    volumes: [
      { type: 'bind', source: `${opts.configDir.replace(/\/+$/, '')}/${socketProxyScript.source}`, target: socketProxyScript.target, read_only: true },
      // read_only keeps the socket file from being replaced; it does not limit the API behind it (the proxy does).
      // create_host_path: false: compose >= 2.30 sends binds through the legacy API, which makes a missing source an
      // empty root-owned directory (docker/compose#12797); this makes it an error instead.
      { type: 'bind', source: socket, target: PROXIED_SOCKET, read_only: true, bind: { create_host_path: false } },
    ],
    read_only: true,
    cap_drop: ['ALL'],
    security_opt: security,
    restart: 'unless-stopped',
    // Node needs about a dozen threads and 50 MiB; the limits only keep a runaway from taking the machine.
    deploy: { resources: { limits: { ...(engine.cpuLimits ? { cpus: 0.25 } : {}), memory: '128M', pids: 64 } } },
    networks: { [SOCKET_PROXY_NETWORK]: {} },
    labels: { ...labels, 'com.mop-sandbox.component': SOCKET_PROXY },
  };
}

const portString = (ip: string, host: number, container: number) => `${ip.includes(':') ? `[${ip}]` : ip}:${host}:${container}`;

/** A component's config files on compose; without a Docker socket, none of those that read it. */
export function composeConfigFiles(c: Component, engine: EngineAdaptations = defaultEngine) {
  return configFilesFor(c, 'compose').filter((f) => engine.dockerSocket || !f.needsDockerSocket);
}

export function composeDocument(stack: Stack, opts: ComposeOptions = {}): ComposeFile {
  const paths = opts.paths ?? committedComposePaths;
  const engine = opts.engine ?? defaultEngine;
  const sources = opts.sources ?? defaultSources();
  const services: Record<string, ComposeService> = {};
  const volumes: NonNullable<ComposeFile['volumes']> = {};
  const project = opts.projectName ?? defaultStackId;
  // Every object of the stack carries the stack label: `down`, the orphan check and Alloy select on it.
  const own = { [stackLabel]: project };
  const join = (base: string, rel: string) => `${base.replace(/\/+$/, '')}/${rel}`;

  for (const c of stack.components) {
    const labels = { ...own, 'com.mop-sandbox.component': c.name, 'com.mop-sandbox.profile': stack.profile.name };
    const svc: ComposeService = { image: c.image } as ComposeService;
    if (c.build) svc.build = { context: paths.buildContext, dockerfile: c.build.dockerfile };
    if (c.entrypoint) svc.entrypoint = c.entrypoint.map(literal);
    if (c.args.length || c.runtimeArgs?.compose?.length) svc.command = [...c.args, ...(c.runtimeArgs?.compose ?? [])].map(literal);
    svc.user = userOn(c, 'compose');

    const env = Object.entries(envOn(c, 'compose')).map(([k, v]): [string, typeof v] => [k, k === stackIdEnv ? project : v]);
    if (env.length) {
      svc.environment = Object.fromEntries(env.map(([k, v]) => [k, typeof v === 'string' ? literal(v) : secretRef(v.secret)]));
    }

    // A port fronted by the gateway is published by the gateway's container (the same container port number).
    const ports = stack.published.filter((p) => p.publisher === c.name).map((p) => portString(p.hostIp, p.hostPort, p.containerPort));
    if (ports.length) svc.ports = ports;

    const mounts: ComposeMount[] = [];
    if (c.dataDir) {
      // A fresh named volume copies the image's directory, owner and mode included (tempo/loki 10001, grafana 472),
      // so non-root images can write to it without a chown step.
      const vol = `${c.name}-data`;
      volumes[vol] = { labels: { ...own, 'com.mop-sandbox.component': c.name } };
      mounts.push({ type: 'volume', source: vol, target: c.dataDir });
    }
    for (const f of composeConfigFiles(c, engine)) {
      assertSourceExists(f, sources, c.name);
      mounts.push({ type: 'bind', source: join(f.from === 'dashboards' ? paths.dashboards : paths.config, f.source), target: f.target, read_only: true });
    }
    if (mountsDashboards(c)) {
      listDashboards(sources.dashboards); // fails clearly when the folder is missing
      mounts.push({ type: 'bind', source: paths.dashboards, target: DASHBOARDS_TARGET, read_only: true });
    }
    if (mounts.length) svc.volumes = mounts;

    const hc = healthcheck(c, Boolean(opts.startInterval));
    if (hc) svc.healthcheck = hc;
    const deps = dependsOn(c, stack, engine);
    if (deps) svc.depends_on = deps;
    if (c.privileged) svc.privileged = true;
    else {
      // No capabilities and no privilege gain through setuid binaries; privileged OBI keeps what eBPF needs. A root
      // component keeps DAC_OVERRIDE only: without it root cannot write a data directory the image gave its own user
      // (Alloy's /var/lib/alloy/data is alloy:alloy, mode 770).
      svc.cap_drop = ['ALL'];
      if (parseUser(svc.user).uid === 0) svc.cap_add = ['DAC_OVERRIDE'];
      svc.security_opt = ['no-new-privileges:true'];
    }
    // Podman on SELinux hosts: a container may read neither the user's files nor the engine's socket
    // (containers/podman#20204). Labels off rather than `:z`, which relabels the host's files and fails on files
    // the user does not own (a global install).
    if (engine.disableSelinuxLabels && !c.privileged && mounts.some((m) => m.type === 'bind')) svc.security_opt = [...(svc.security_opt ?? []), 'label=disable'];
    if (c.hostPid) svc.pid = c.composePidOf ? `service:${c.composePidOf}` : 'host';
    svc.restart = c.oneShot ? 'no' : 'unless-stopped';
    // compose v2 applies deploy.resources.limits to plain containers (no swarm); checked on Engine 20.10.
    const memory = composeMemory(c.resources.limits.memory);
    svc.deploy = { resources: { limits: engine.cpuLimits ? { cpus: quantityCpus(c.resources.limits.cpu), memory } : { memory } } };
    // The same gossip name as the headless Service on Kubernetes; Docker's DNS answers it with every replica.
    if (c.gossipService) svc.networks = { default: { aliases: [c.gossipService] } };
    // Alloy also joins the socket proxy's network, which no other container does.
    if (readsDockerApi(c, engine)) svc.networks = { ...(svc.networks ?? { default: {} }), [SOCKET_PROXY_NETWORK]: {} };
    svc.labels = labels;
    services[c.name] = svc;
  }
  const owner = dataOwnerService(stack, { ...own, 'com.mop-sandbox.profile': stack.profile.name });
  if (owner) services[DATA_OWNER_SERVICE] = owner;
  const networks: ComposeFile['networks'] = { default: { labels: own } };
  const proxy = socketProxyService(stack, project, { ...own, 'com.mop-sandbox.profile': stack.profile.name }, engine, { configDir: paths.config, sources });
  if (proxy) {
    services[SOCKET_PROXY] = proxy;
    // A network of its own keeps every other container from reaching the proxy. Not `internal`: on Podman 4.3 here,
    // Alloy's connections to the proxy on an internal network timed out (test/engine/compose.test.ts).
    networks[SOCKET_PROXY_NETWORK] = { labels: own };
  }
  const doc: ComposeFile = { name: project, services, networks };
  if (Object.keys(volumes).length) doc.volumes = volumes;
  return doc;
}

/** What the file leaves out for this engine, said in its header. */
function engineNotes(engine: EngineAdaptations): string[] {
  const notes: string[] = [];
  if (!engine.dockerSocket) notes.push('No container-log collection: the engine\'s Docker socket cannot be mounted (see `mop-sandbox doctor`).');
  if (!engine.cpuLimits) notes.push('No CPU limits: this rootless engine cannot set them (the cgroup cpu controller is not delegated).');
  if (engine.disableSelinuxLabels) notes.push('SELinux labels are off for containers that mount host files (Podman).');
  return notes;
}

export function renderCompose(stack: Stack, opts: ComposeOptions = {}): string {
  const doc = composeDocument(stack, opts);
  const header = [
    `${GENERATED}.`,
    `Profile: ${stack.profile.name}, object store: ${stack.store}.`,
    ...(opts.header ?? []),
    ...engineNotes(opts.engine ?? defaultEngine),
    'Credentials are required variables, never written here. Set them in the environment or in a .env file',
    `(mode 0600) next to this file: ${secretNames.map(secretEnvName).join(', ')}.`,
    'Published ports bind to ' + stack.bindAddress + ' only.',
  ];
  return toYaml(doc, header);
}

/** The .env file for a compose file (mode 0600): the credentials as the variables the compose file requires. */
export function renderEnvFile(credentials: Credentials): string {
  return [
    `# ${GENERATED}. Credentials for mop-sandbox; keep this file private (mode 0600).`,
    ...secretNames.map((n) => `${secretEnvName(n)}=${credentials[n]}`),
    '',
  ].join('\n');
}

export interface ComposeRenderInput {
  stack: Stack;
  credentials?: Credentials;
  projectName?: string;
  startInterval?: boolean;
  sources?: SourceDirs;
  /** Build context (default: the package root, absolute). */
  buildContext?: string;
  /** Write the credentials as `.env` (0600) next to the compose file (default true; `up` passes them as environment). */
  envFile?: boolean;
  /** Header lines (default: how to run this copy by hand). */
  header?: string[];
  /** What the engine needs (socket, SELinux labels, CPU limits); default: a Docker Engine with /var/run/docker.sock. */
  engine?: EngineAdaptations;
}

/** The compose file's name in a rendered folder. */
export const COMPOSE_FILE = 'docker-compose.yml';

/**
 * A self-contained compose folder: docker-compose.yml, .env (0600, unless `envFile: false`) and copies of the configs
 * and dashboards it mounts, by paths relative to the compose file. `render --runtime compose --out DIR` writes it
 * where the user says; `up` writes it into the state directory under the user's home, which every VM engine shares
 * (a global install under /opt/homebrew or /usr/local is not shared by Docker Desktop, Colima or Lima), so no bind
 * source lies in the package's install folder.
 */
export function composeRenderFiles(input: ComposeRenderInput): RenderFile[] {
  const sources = input.sources ?? defaultSources();
  const { stack } = input;
  const compose = renderCompose(stack, {
    projectName: input.projectName,
    paths: { config: './config', dashboards: './dashboards', buildContext: input.buildContext ?? packageRoot },
    startInterval: input.startInterval,
    engine: input.engine,
    sources,
    header: input.header ?? ['Run it: docker compose -f docker-compose.yml up -d   (in this folder; .env holds the credentials)'],
  });
  const files: RenderFile[] = [{ path: COMPOSE_FILE, content: compose }];
  if (input.envFile ?? true) {
    if (!input.credentials) throw new Error('composeRenderFiles: an .env file needs the credentials');
    files.push({ path: '.env', content: renderEnvFile(input.credentials), mode: 0o600 });
  }
  const seen = new Set<string>();
  // The socket proxy's script, when the file has a socket proxy.
  if (hasSocketProxy(stack, input.engine ?? defaultEngine)) {
    seen.add(displayPath(socketProxyScript));
    files.push({ path: displayPath(socketProxyScript), content: readSource(socketProxyScript, sources, SOCKET_PROXY) });
  }
  for (const c of stack.components) {
    for (const f of composeConfigFiles(c, input.engine)) {
      const path = displayPath(f);
      if (seen.has(path)) continue;
      seen.add(path);
      files.push({ path, content: readSource(f, sources, c.name) });
    }
    if (mountsDashboards(c)) {
      for (const d of listDashboards(sources.dashboards)) files.push({ path: `dashboards/${d.rel}`, content: readFileSync(d.abs) });
    }
  }
  return files;
}
