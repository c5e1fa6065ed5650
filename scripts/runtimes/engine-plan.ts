/**
 * What the compose render adapts to on the engine that answered: the Docker socket the socket proxy mounts for Alloy
 * (the engine's own, never a guessed path), SELinux labels (Podman), CPU limits (rootless engines without cpu
 * delegation). Each decision comes with the preflight check that says it, so `up` and `doctor` explain what the render
 * left out and why.
 */
import { readFileSync, statSync } from 'node:fs';
import { SYSTEM_SOCKET, type Engine, type EngineProduct } from '../lib/docker.js';
import type { EngineAdaptations } from '../render/compose.js';
import { SOCKET_PROXY_USER } from '../stack/socket-proxy.js';
import type { PreflightCheck } from './runtime.js';

/** Products whose engine runs in a VM: a bind source is a path inside that VM, where the socket is /var/run/docker.sock. */
const VM_PRODUCTS: EngineProduct[] = ['Docker Desktop', 'Colima', 'OrbStack', 'Rancher Desktop'];

export type EngineFacts = Pick<Engine, 'product' | 'endpoint' | 'rootless' | 'eci' | 'cgroupVersion' | 'osType'>;

/** Host facts the decisions read (injected in tests). */
export interface HostProbe {
  /** 'socket' | 'missing' | 'other' (a directory or file where the socket should be). */
  socketKind(path: string): 'socket' | 'missing' | 'other';
  /** The socket's owner group id, or undefined when it cannot be read. */
  socketGroup?(path: string): number | undefined;
  /** The cgroup v2 controllers delegated to this user's systemd instance, or undefined when unreadable. */
  delegatedControllers(uid: number): string[] | undefined;
  uid: number | undefined;
}

export const hostProbe: HostProbe = {
  socketKind(path) {
    try {
      return statSync(path).isSocket() ? 'socket' : 'other';
    } catch {
      return 'missing';
    }
  },
  socketGroup(path) {
    try {
      return statSync(path).gid;
    } catch {
      return undefined;
    }
  },
  delegatedControllers(uid) {
    try {
      // systemd's user slice (docs.docker.com rootless "Limiting resources": cat this file to see what is delegated).
      return readFileSync(`/sys/fs/cgroup/user.slice/user-${uid}.slice/user@${uid}.service/cgroup.controllers`, 'utf8').trim().split(/\s+/);
    } catch {
      return undefined;
    }
  },
  uid: process.getuid?.(),
};

export const isRemote = (endpoint: Engine['endpoint']) => /^(tcp|ssh|https?):/i.test(endpoint.host);

/** The engine runs on this machine, not in a VM and not remote (the socket path and cgroups are this host's). */
export function isLocalLinux(engine: Pick<Engine, 'product' | 'endpoint'>, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && !isRemote(engine.endpoint) && !VM_PRODUCTS.includes(engine.product);
}

export interface SocketPlan {
  /** The bind source (in the engine's filesystem), or undefined: no container-log collection. */
  source: string | undefined;
  /**
   * The socket's group, when the socket proxy can read the socket through it as the Node image's non-root user (a
   * rootful dockerd on this machine: the socket is the host's file, root:<group> 660). Undefined: the proxy runs as
   * root, `rootReason` says why.
   */
  group?: number;
  rootReason?: string;
  check: PreflightCheck;
}

const socketTitle = 'Docker socket for container logs';

/**
 * The Docker socket the socket proxy mounts (Alloy reads the Docker API through the proxy). Engines in a VM (the VM
 * products, and every engine on macOS or Windows): /var/run/docker.sock inside the VM (each product's VM has it; Podman machine links it to the user's Podman socket,
 * podman pkg/machine/ignition). Local Linux engines: the endpoint's
 * own unix socket (rootless Docker's $XDG_RUNTIME_DIR/docker.sock, Podman's podman.sock), checked to exist and be a
 * socket. Remote engines and Docker Desktop with Enhanced Container Isolation: none.
 */
export function planDockerSocket(engine: EngineFacts, platform: NodeJS.Platform, probe: HostProbe = hostProbe): SocketPlan {
  const without = (detail: string, fix: string): SocketPlan => ({
    source: undefined,
    check: { id: 'docker-socket', title: socketTitle, ok: false, severity: 'warn', detail: `${detail}; the stack starts without collecting container logs`, fix },
  });
  if (engine.eci) {
    return without(
      'Docker Desktop\'s Enhanced Container Isolation does not let containers mount the Docker socket',
      'ask your Docker administrator to allow the socket mount for the Node image the socket proxy runs (ECI "Docker socket mount permissions"), or accept no container logs in Loki',
    );
  }
  if (isRemote(engine.endpoint)) {
    return without(
      `the engine is remote (${engine.endpoint.host}), so the path of its Docker socket on that host is unknown`,
      'run mop-sandbox on the engine\'s own machine (or through a local engine) to collect container logs',
    );
  }
  // On macOS and Windows every engine runs in a Linux VM (Podman machine, Lima, ...), whatever its product.
  if (!isLocalLinux(engine, platform)) {
    return {
      source: SYSTEM_SOCKET,
      check: { id: 'docker-socket', title: socketTitle, ok: true, severity: 'warn', detail: `${SYSTEM_SOCKET} inside ${engine.product}'s VM` },
    };
  }
  if (!engine.endpoint.host.startsWith('unix://')) {
    return without(`the engine's endpoint ${engine.endpoint.host} is not a unix socket that could be mounted`, 'point DOCKER_HOST at the engine\'s unix socket');
  }
  const path = engine.endpoint.host.slice('unix://'.length);
  const kind = probe.socketKind(path);
  if (kind !== 'socket') {
    return without(
      kind === 'missing' ? `${path} does not exist on this machine` : `${path} is not a socket`,
      kind === 'missing'
        ? 'point DOCKER_HOST at the engine\'s socket on this machine'
        : `remove ${path} if it is a leftover (an empty directory compose created), then point DOCKER_HOST at the engine's socket`,
    );
  }
  const reader = socketReader(engine, path, probe);
  return {
    source: path,
    ...reader,
    check: {
      id: 'docker-socket',
      title: socketTitle,
      ok: true,
      severity: 'warn',
      detail: `${path} (the engine's own socket); ${reader.group !== undefined ? `the socket proxy reads it as the Node image's user (uid ${SOCKET_PROXY_USER.split(':')[0]}) with the socket's group ${reader.group}` : `the socket proxy reads it as root: ${reader.rootReason}`}; Alloy gets only the proxy's read-only calls`,
    },
  };
}

/**
 * Whether the socket proxy can read a local engine's socket without root: only a rootful dockerd's socket is a plain host file
 * whose group a container user can be given (`group_add`). A rootless engine's socket belongs to the user, whom the
 * engine maps to root inside its containers (root there is that unprivileged user on the host); Podman's socket
 * and every VM product's are not files of this machine whose group means the same inside the engine.
 */
function socketReader(engine: EngineFacts, path: string, probe: HostProbe): { group?: number; rootReason?: string } {
  if (engine.product !== 'dockerd') return { rootReason: `the socket's group on ${engine.product} cannot be given to a container user` };
  if (engine.rootless) return { rootReason: 'a rootless engine maps its user to root inside containers, so root there is that unprivileged user on the host' };
  const group = probe.socketGroup?.(path);
  if (group === undefined) return { rootReason: `the group of ${path} could not be read` };
  return { group };
}

export interface CpuPlan {
  cpuLimits: boolean;
  check?: PreflightCheck;
}

/**
 * A rootless engine on cgroup v2 sets CPU limits only where systemd delegates the cpu controller to the user
 * (systemd < 252 delegates memory and pids only; docs.docker.com rootless "Limiting resources": Delegate=cpu cpuset
 * io memory pids). Without it, every container with `cpus` fails to start; on cgroup v1 rootless engines ignore
 * limits with a warning, so nothing fails there.
 */
export function planCpuLimits(engine: EngineFacts, platform: NodeJS.Platform, probe: HostProbe = hostProbe): CpuPlan {
  if (!engine.rootless || engine.cgroupVersion === '1' || !isLocalLinux(engine, platform) || probe.uid === undefined) return { cpuLimits: true };
  const controllers = probe.delegatedControllers(probe.uid);
  if (!controllers || controllers.includes('cpu')) return { cpuLimits: true };
  return {
    cpuLimits: false,
    check: {
      id: 'cpu-limits',
      title: 'CPU limits',
      ok: false,
      severity: 'warn',
      detail: `the rootless engine cannot limit CPU (systemd delegates only ${controllers.join(', ') || 'no controllers'} to your user), so the stack starts without CPU limits`,
      fix: 'to get them: `sudo mkdir -p /etc/systemd/system/user@.service.d` and put `[Service]` `Delegate=cpu cpuset io memory pids` in delegate.conf there, then `sudo systemctl daemon-reload` and log in again',
    },
  };
}

/** The engine must run Linux containers (Docker Desktop can be switched to Windows containers). */
export function checkOsType(engine: Pick<Engine, 'osType' | 'product'>): PreflightCheck | undefined {
  if (engine.osType === 'linux') return undefined;
  return {
    id: 'os-type',
    title: 'engine runs Linux containers',
    ok: false,
    severity: 'error',
    detail: `${engine.product} runs ${engine.osType} containers; every image of the stack is a Linux image`,
    fix: 'switch to Linux containers (Docker Desktop: right-click the whale icon → "Switch to Linux containers…"), then run the command again',
  };
}

/** A remote engine (tcp/ssh): published ports are on that host's 127.0.0.1, out of this machine's reach. */
export function checkRemote(engine: Pick<Engine, 'endpoint'>): PreflightCheck | undefined {
  if (!isRemote(engine.endpoint)) return undefined;
  return {
    id: 'remote',
    title: 'engine on this machine',
    ok: false,
    severity: 'warn',
    detail: `the engine is remote (${engine.endpoint.host}): the stack's ports bind to 127.0.0.1 on that host, so this machine cannot reach them, and the readiness wait will time out`,
    fix: 'use a local engine (unset DOCKER_HOST or `docker context use default`), or run mop-sandbox on the engine\'s host',
  };
}

/** The render's adaptations and the checks that explain them. */
export function planEngine(engine: EngineFacts, platform: NodeJS.Platform, probe: HostProbe = hostProbe): { adaptations: EngineAdaptations; checks: PreflightCheck[] } {
  const socket = planDockerSocket(engine, platform, probe);
  const cpu = planCpuLimits(engine, platform, probe);
  const checks = [socket.check, cpu.check, checkOsType(engine), checkRemote(engine)].filter((c): c is PreflightCheck => Boolean(c));
  return {
    adaptations: { dockerSocket: socket.source, dockerSocketGroup: socket.group, disableSelinuxLabels: engine.product === 'Podman', cpuLimits: cpu.cpuLimits },
    checks,
  };
}
