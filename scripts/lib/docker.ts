/**
 * The Docker engine as the CLI sees it: which endpoint (DOCKER_HOST, the current context, or the default socket),
 * which product answers there (Docker Desktop, Colima, OrbStack, Podman, Rancher Desktop, plain dockerd), and a
 * narrow client interface over dockerode so tests can inject a fake.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type Dockerode from 'dockerode';
import { ExitCode, UserError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------------
// The subset of the Docker API we use. dockerode satisfies it; tests pass small fakes.

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  State: string;
  Status: string;
  Labels: Record<string, string>;
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[];
  NetworkSettings?: { Networks?: Record<string, { IPAddress?: string }> };
}

export interface ContainerDetails {
  Id: string;
  Name: string;
  Config: { Tty?: boolean; Labels?: Record<string, string>; Image?: string };
  State: {
    Status: string;
    Running: boolean;
    Restarting: boolean;
    ExitCode: number;
    StartedAt: string;
    FinishedAt: string;
    OOMKilled?: boolean;
    Error?: string;
    Health?: { Status: string; Log?: { ExitCode: number; Output: string }[] };
  };
  RestartCount: number;
  NetworkSettings: { Ports?: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

export interface ContainerHandle {
  inspect(): Promise<ContainerDetails>;
  logs(opts: { stdout: boolean; stderr: boolean; tail?: number; follow?: boolean; timestamps?: boolean }): Promise<unknown>;
  stop(opts?: { t?: number }): Promise<unknown>;
  remove(opts?: { force?: boolean; v?: boolean }): Promise<unknown>;
}

export interface DockerApi {
  ping(): Promise<unknown>;
  info(): Promise<EngineInfoRaw>;
  version(): Promise<EngineVersionRaw>;
  listContainers(opts?: { all?: boolean; filters?: string | Record<string, string[]> }): Promise<ContainerSummary[]>;
  getContainer(id: string): ContainerHandle;
  listVolumes(opts?: { filters?: string | Record<string, string[]> }): Promise<{ Volumes: { Name: string; Labels?: Record<string, string> | null }[] | null }>;
  getVolume(name: string): { remove(opts?: object): Promise<unknown> };
  listNetworks(opts?: { filters?: string | Record<string, string[]> }): Promise<{ Id: string; Name: string; Labels?: Record<string, string> }[]>;
  getNetwork(id: string): { remove(opts?: object): Promise<unknown> };
  getImage(name: string): { inspect(): Promise<unknown> };
  /** The underlying modem, for demultiplexing log streams (dockerode only). */
  modem?: { demuxStream(stream: NodeJS.ReadableStream, out: NodeJS.WritableStream, err: NodeJS.WritableStream): void };
}

export interface EngineInfoRaw {
  Name?: string;
  OperatingSystem?: string;
  ServerVersion?: string;
  MemTotal?: number;
  NCPU?: number;
  /** Where the engine keeps images, containers and volumes (in the engine's filesystem, maybe a VM). */
  DockerRootDir?: string;
  Labels?: string[] | null;
  /** "1" or "2" (Docker API 1.40+); kind nodes share the host's cgroup hierarchy. */
  CgroupVersion?: string;
  /** "cgroupfs" | "systemd" | "none" */
  CgroupDriver?: string;
  /** "linux" | "windows" (Docker Desktop in Windows-containers mode). */
  OSType?: string;
  /** e.g. "name=seccomp,profile=builtin", "name=rootless", "name=selinux", "name=cgroupns". */
  SecurityOptions?: string[] | null;
  /** Podman's compat API only (pkg/api/handlers/compat/info.go). */
  Rootless?: boolean;
  /** Runtimes the engine offers; Docker Desktop's Enhanced Container Isolation adds sysbox-runc. */
  Runtimes?: Record<string, unknown> | null;
  /** The engine's kernel: "…-microsoft-standard-WSL2" when it runs in WSL2 (Docker Desktop, Rancher Desktop, Podman on Windows). */
  KernelVersion?: string;
}

export interface EngineVersionRaw {
  Version?: string;
  ApiVersion?: string;
  Platform?: { Name?: string };
  Components?: { Name: string; Version: string }[];
}

// ---------------------------------------------------------------------------------------------------------------
// Endpoint resolution: DOCKER_HOST wins, then DOCKER_CONTEXT, then the CLI config's currentContext, then the default.

export interface DockerEndpoint {
  /** unix:///path, tcp://host:port, npipe:////./pipe/x, ssh://user@host */
  host: string;
  source: 'DOCKER_HOST' | 'context' | 'default';
  /** The context name when the endpoint came from a context. */
  context?: string;
  /** Found as a rootless engine's socket, where the docker CLI does not look: its commands need DOCKER_HOST. */
  rootlessFallback?: boolean;
}

/** The environment for docker CLI commands, so that they address the engine this CLI resolved. */
export const cliEnv = (endpoint: DockerEndpoint, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  endpoint.rootlessFallback ? { ...env, DOCKER_HOST: endpoint.host } : env;

export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker');
}

export function resolveEndpoint(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform, isUsable: (path: string) => boolean = usable): DockerEndpoint {
  if (env.DOCKER_HOST) return { host: env.DOCKER_HOST, source: 'DOCKER_HOST' };
  const configDir = dockerConfigDir(env);
  let context = env.DOCKER_CONTEXT;
  if (!context) {
    try {
      context = JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')).currentContext;
    } catch {
      /* no config: the default context */
    }
  }
  if (context && context !== 'default') {
    const id = createHash('sha256').update(context).digest('hex');
    try {
      const meta = JSON.parse(readFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8'));
      const host = meta?.Endpoints?.docker?.Host;
      if (typeof host === 'string' && host) return { host, source: 'context', context };
    } catch {
      /* a context we cannot read: fall through to the default and let the check say so */
    }
  }
  if (platform === 'win32') return { host: 'npipe:////./pipe/docker_engine', source: 'default' };
  const userSocket = join(env.HOME || homedir(), '.docker', 'run', 'docker.sock');
  if (platform === 'darwin' && existsSync(userSocket)) return { host: `unix://${userSocket}`, source: 'default' };
  if (platform === 'linux' && !isUsable(SYSTEM_SOCKET)) {
    // No usable system socket: a rootless engine's own socket, as `docker` and `podman` would find it.
    const own = userSockets(env).find((s) => isUsable(s.path));
    if (own) return { host: `unix://${own.path}`, source: 'default', rootlessFallback: true };
  }
  return { host: `unix://${SYSTEM_SOCKET}`, source: 'default' };
}

export const SYSTEM_SOCKET = '/var/run/docker.sock';

/**
 * The sockets rootless engines listen on: rootless Docker at $XDG_RUNTIME_DIR/docker.sock (docs.docker.com
 * "Rootless mode", `dockerd-rootless.sh`), rootless Podman's API at $XDG_RUNTIME_DIR/podman/podman.sock
 * (podman.socket user unit, `podman system service`). Without XDG_RUNTIME_DIR, /run/user/<uid> as systemd sets it.
 */
export function userSockets(env: NodeJS.ProcessEnv, uid = process.getuid?.()): { engine: 'Docker' | 'Podman'; path: string }[] {
  const runtimeDir = env.XDG_RUNTIME_DIR || (uid !== undefined ? `/run/user/${uid}` : undefined);
  if (!runtimeDir) return [];
  return [
    { engine: 'Docker', path: join(runtimeDir, 'docker.sock') },
    { engine: 'Podman', path: join(runtimeDir, 'podman', 'podman.sock') },
  ];
}

/** A socket this user may connect to (connect() needs write permission on the socket file). */
function usable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** dockerode options for an endpoint (explicit, so a DOCKER_HOST in process.env never overrides what we resolved). */
export function modemOptions(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv): Dockerode.DockerOptions {
  const h = endpoint.host;
  if (h.startsWith('unix://')) return { socketPath: h.slice('unix://'.length), host: undefined, port: undefined };
  if (h.startsWith('npipe://')) return { socketPath: h.slice('npipe://'.length), host: undefined, port: undefined };
  const url = new URL(h.includes('//') ? h : `tcp://${h}`);
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: url.port || 22, username: url.username, sshOptions: { agent: env.SSH_AUTH_SOCK } } as Dockerode.DockerOptions;
  }
  const tls = env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
  const opts: Dockerode.DockerOptions = { protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port || (tls ? 2376 : 2375), socketPath: undefined };
  if (tls && env.DOCKER_CERT_PATH) {
    opts.ca = readFileSync(join(env.DOCKER_CERT_PATH, 'ca.pem'));
    opts.cert = readFileSync(join(env.DOCKER_CERT_PATH, 'cert.pem'));
    opts.key = readFileSync(join(env.DOCKER_CERT_PATH, 'key.pem'));
  }
  return opts;
}

export function createDocker(endpoint: DockerEndpoint, env: NodeJS.ProcessEnv): DockerApi {
  // Loaded on first use (dockerode and its ssh2/protobuf tree cost more than a whole `--help`).
  const Docker = createRequire(import.meta.url)('dockerode') as typeof Dockerode;
  return new Docker(modemOptions(endpoint, env)) as unknown as DockerApi;
}

// ---------------------------------------------------------------------------------------------------------------
// Which product answered.

export type EngineProduct = 'Docker Desktop' | 'Colima' | 'OrbStack' | 'Podman' | 'Rancher Desktop' | 'dockerd';

export interface Engine {
  product: EngineProduct;
  version: string;
  apiVersion: string;
  memTotal: number;
  cpus: number;
  os: string;
  /** DockerRootDir: where volumes live (in the engine's filesystem). */
  rootDir?: string;
  /** The engine's cgroup hierarchy, "1" or "2"; empty when the engine does not say (old API, Podman). */
  cgroupVersion: string;
  /** "linux" unless the engine says otherwise (Docker Desktop in Windows-containers mode says "windows"). */
  osType: string;
  /** The engine runs as a user, not root (rootless Docker or rootless Podman). */
  rootless: boolean;
  /** SELinux labels are enforced on containers (Fedora, RHEL, Podman machine). */
  selinux: boolean;
  /** Docker Desktop's Enhanced Container Isolation: containers may not mount the Docker socket. */
  eci: boolean;
  /** The kernel the engine runs on (KernelVersion; empty when not reported). */
  kernel?: string;
  endpoint: DockerEndpoint;
}

export function detectProduct(info: EngineInfoRaw, version: EngineVersionRaw, endpoint: DockerEndpoint): EngineProduct {
  const os = (info.OperatingSystem ?? '').toLowerCase();
  const name = (info.Name ?? '').toLowerCase();
  const host = endpoint.host.toLowerCase();
  const ctx = (endpoint.context ?? '').toLowerCase();
  const components = (version.Components ?? []).map((c) => c.Name.toLowerCase());
  if (components.some((c) => c.includes('podman')) || (version.Platform?.Name ?? '').toLowerCase().includes('podman') || host.includes('podman')) {
    return 'Podman';
  }
  if (os.includes('docker desktop') || ctx.startsWith('desktop-')) return 'Docker Desktop';
  if (name.includes('orbstack') || os.includes('orbstack') || host.includes('orbstack') || ctx === 'orbstack') return 'OrbStack';
  if (name.includes('colima') || host.includes('colima') || ctx.startsWith('colima')) return 'Colima';
  if (name.includes('rancher') || host.includes('/.rd/') || ctx.includes('rancher')) return 'Rancher Desktop';
  return 'dockerd';
}

/** compose v2 refuses healthcheck.start_interval below API 1.44 (Docker Engine 25). */
export function supportsStartInterval(engine: Pick<Engine, 'apiVersion' | 'version' | 'product'>): boolean {
  if (engine.product === 'Podman') return false;
  const [maj, min] = engine.apiVersion.split('.').map(Number);
  if (Number.isFinite(maj) && Number.isFinite(min)) return maj > 1 || (maj === 1 && min >= 44);
  return Number(engine.version.split('.')[0]) >= 25;
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The engine's security facts from `docker info`. Rootless: "name=rootless" in SecurityOptions (dockerd,
 * daemon/info.go; Podman, pkg/api/handlers/compat/info.go getSecOpts) or Podman's own Rootless field. SELinux:
 * "name=selinux" (both engines). ECI: Docker Desktop launches every container with its Sysbox runtime ("How
 * Enhanced Container Isolation works", docs.docker.com); a sysbox runtime listed in Runtimes is taken as the sign
 * (the docs do not show `docker info` under ECI, so this is an inference, and only for Docker Desktop).
 */
export function securityFacts(info: EngineInfoRaw, product: EngineProduct): Pick<Engine, 'rootless' | 'selinux' | 'eci' | 'osType'> {
  const opts = (info.SecurityOptions ?? []).map((o) => o.toLowerCase());
  const has = (name: string) => opts.some((o) => o.split(',').includes(`name=${name}`));
  const runtimes = Object.keys(info.Runtimes ?? {}).map((r) => r.toLowerCase());
  return {
    osType: (info.OSType || 'linux').toLowerCase(),
    rootless: has('rootless') || info.Rootless === true,
    selinux: has('selinux'),
    eci: product === 'Docker Desktop' && runtimes.some((r) => r.startsWith('sysbox')),
  };
}

export async function inspectEngine(docker: DockerApi, endpoint: DockerEndpoint, timeoutMs = 8000): Promise<Engine> {
  const [info, version] = await withTimeout(Promise.all([docker.info(), docker.version()]), timeoutMs, `the Docker engine at ${endpoint.host}`);
  const product = detectProduct(info, version, endpoint);
  return {
    ...securityFacts(info, product),
    product,
    version: version.Version ?? info.ServerVersion ?? 'unknown',
    apiVersion: version.ApiVersion ?? '',
    memTotal: info.MemTotal ?? 0,
    cpus: info.NCPU ?? 0,
    os: info.OperatingSystem ?? '',
    rootDir: info.DockerRootDir,
    cgroupVersion: info.CgroupVersion ?? '',
    kernel: info.KernelVersion ?? '',
    endpoint,
  };
}

/** How to start the engine the user most likely has, judged from the endpoint and platform. */
export function startHint(endpoint: DockerEndpoint, platform: NodeJS.Platform): string {
  const h = endpoint.host.toLowerCase();
  const ctx = (endpoint.context ?? '').toLowerCase();
  if (h.includes('colima') || ctx.startsWith('colima')) return 'start Colima: `colima start`';
  if (h.includes('orbstack') || ctx === 'orbstack') return 'start OrbStack: `orb start`';
  if (h.includes('podman')) return platform === 'linux' ? podmanSocketHint : 'start the Podman machine: `podman machine start`';
  if (h.includes('/.rd/') || ctx.includes('rancher')) return rancherHint;
  if (ctx.startsWith('desktop-') || platform === 'darwin' || platform === 'win32') return 'start Docker Desktop (or Colima/OrbStack) and wait until it says it is running';
  return `start the Docker engine: \`sudo systemctl start docker\` (rootless Docker: \`systemctl --user start docker\`; Podman: ${podmanSocketHint.replace(/^start the Podman socket: /, '')})`;
}

/** Rootless Podman serves the Docker API on a user socket once its systemd unit runs. */
export const podmanSocketHint =
  'start the Podman socket: `systemctl --user enable --now podman.socket`, then `export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock`';

/** Rancher Desktop's containerd engine (nerdctl) serves no Docker API: the socket is missing until dockerd is chosen. */
export const rancherHint =
  'start Rancher Desktop with the dockerd (moby) engine: Preferences → Container Engine → dockerd (moby); its containerd engine serves no Docker API';

/** Where a socket path really leads (podman-docker links /run/docker.sock to Podman's rootful socket). */
function realSocket(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** The error for an engine that does not answer: which endpoint we tried, why it failed, and how to start it. */
export function unreachableError(
  endpoint: DockerEndpoint,
  cause: unknown,
  platform: NodeJS.Platform = process.platform,
  resolve: (path: string) => string = realSocket,
): UserError {
  const msg = (cause as Error)?.message ?? String(cause);
  const code = (cause as NodeJS.ErrnoException)?.code;
  const via =
    endpoint.source === 'DOCKER_HOST' ? ' (from DOCKER_HOST)' : endpoint.source === 'context' ? ` (from the docker context "${endpoint.context}")` : '';
  let next = startHint(endpoint, platform);
  if (code === 'EACCES') {
    const target = endpoint.host.startsWith('unix://') ? resolve(endpoint.host.slice('unix://'.length)) : '';
    next = target.includes('podman')
      ? `${target} is rootful Podman's socket (the podman-docker package links the Docker socket there), which only root may use; use your own Podman instead: ${podmanSocketHint.replace(/^start the Podman socket: /, '')}`
      : `your user may not use the socket: \`sudo usermod -aG docker $USER\` and log in again (or point DOCKER_HOST at a socket you may use, e.g. rootless Docker's unix://$XDG_RUNTIME_DIR/docker.sock)`;
  } else if (endpoint.source === 'DOCKER_HOST') {
    next = `${next}; or unset DOCKER_HOST if it points at the wrong engine`;
  } else if (endpoint.source === 'context') {
    next = `${next}; or switch context: \`docker context use default\``;
  }
  return new UserError({
    what: `Docker is not reachable at ${endpoint.host}${via}`,
    why: code === 'ENOENT' ? 'no socket at that path: the engine is not running (or is installed elsewhere)' : msg,
    next,
    exitCode: ExitCode.preflight,
    code: 'DOCKER_UNREACHABLE',
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Logs: Docker multiplexes stdout/stderr in 8-byte framed chunks unless the container has a TTY.

export function demuxLogs(buf: Buffer, tty = false): string {
  if (tty) return buf.toString('utf8');
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type > 2 || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return buf.toString('utf8'); // not framed
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}

/** The last `lines` log lines of a container (stdout and stderr together). */
export async function logTail(docker: DockerApi, id: string, lines = 50): Promise<string[]> {
  try {
    const c = docker.getContainer(id);
    const details = await c.inspect();
    const raw = await c.logs({ stdout: true, stderr: true, tail: lines, follow: false });
    const buf = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
    const text = demuxLogs(buf, Boolean(details.Config?.Tty));
    return text.replace(/\r/g, '').split('\n').filter((l, idx, all) => l !== '' || idx < all.length - 1).slice(-lines);
  } catch (e) {
    return [`(could not read the logs: ${(e as Error).message})`];
  }
}

/** A container's display name without the leading slash. */
export const containerName = (c: { Names?: string[]; Name?: string }) => (c.Names?.[0] ?? c.Name ?? '').replace(/^\//, '');
