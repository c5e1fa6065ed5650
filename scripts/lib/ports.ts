/**
 * Host ports: is a port free on the bind address, and if not, who holds it (a container by name, else a process
 * where the OS tells us). A port held by Docker's own forwarder (docker-proxy, rootlessport) is traced back to the
 * container that publishes it, and a port held by another engine's helper (Docker Desktop's backend, OrbStack, Lima,
 * gvproxy, WSL's relay) is reported as that engine's container: killing a forwarder would break that engine's
 * networking, so it is never the advice.
 */
import { connect, createServer } from 'node:net';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Exec } from './exec.js';
import { containerName, type ContainerSummary, type DockerApi } from './docker.js';

export type PortHolder =
  | { kind: 'container'; name: string; id: string; project?: string; service?: string }
  /** Docker forwards the port for a container we could not identify (it may be being created or removed). */
  | { kind: 'docker'; hostPort: number; containerIp?: string; containerPort?: number }
  | { kind: 'process'; pid: number; command: string }
  /** A VM product's port forwarder: a container of that engine (not the one we talk to) publishes the port. */
  | { kind: 'engine'; engine: string; pid: number; command: string }
  | { kind: 'unknown'; detail: string };

/** Tries to bind host:port exclusively. Resolves true when the port is free, false when taken (EADDRINUSE/EACCES). */
export function canBind(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', (e: NodeJS.ErrnoException) => {
      resolve(!(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Does anything accept connections on host:port? On macOS (BSD sockets) libuv binds with SO_REUSEADDR, so binding
 * 127.0.0.1:P succeeds while another program listens on *:P; a connection is the test that works on every OS and
 * through every VM's port forwarder. Resolves false on refusal, on an unreachable address (no IPv6) and on timeout.
 */
export function acceptsConnections(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The loopback addresses a local client may use for "localhost": a listener on either shadows or is shadowed by ours. */
export const LOOPBACKS = ['127.0.0.1', '::1'] as const;

/**
 * Is the port free for us: it binds on hostIp, and (for a loopback bind) nothing answers on 127.0.0.1 or [::1].
 * A listener that answers is taken even when the bind succeeded (wildcard listeners on macOS, another VM's forwarder).
 */
export async function portFree(hostIp: string, port: number): Promise<boolean> {
  if (!(await canBind(hostIp, port))) return false;
  const addresses = hostIp === '0.0.0.0' || hostIp === '::' || LOOPBACKS.includes(hostIp as (typeof LOOPBACKS)[number]) ? LOOPBACKS : [hostIp];
  const answers = await Promise.all(addresses.map((a) => acceptsConnections(a, port)));
  return !answers.some(Boolean);
}

const containerHolder = (c: ContainerSummary) => ({
  kind: 'container' as const,
  name: containerName(c),
  id: c.Id,
  project: c.Labels?.['com.docker.compose.project'],
  service: c.Labels?.['com.docker.compose.service'],
});

/** Docker's port forwarders: the userland proxy (rootful) and rootlesskit's (rootless). */
export const isDockerForwarder = (command: string) => /(^|\/)(docker-proxy|rootlessport)(\s|$)/.test(command);

/**
 * Port forwarders of VM engines and WSL, by process name: the port belongs to a container of that engine. `ssh` is
 * how Lima (and so Colima) forwards ports, and also what a user's own tunnel runs: both are said.
 */
const engineHelpers: { name: RegExp; engine: string }[] = [
  { name: /^com\.docker\.|^vpnkit|^docker desktop/i, engine: 'Docker Desktop' },
  { name: /^orbstack/i, engine: 'OrbStack' },
  { name: /^limactl/i, engine: 'Lima (or Colima)' },
  { name: /^ssh$/i, engine: 'Lima or Colima (their port forwards run over ssh; it may also be an ssh tunnel of yours)' },
  { name: /^gvproxy/i, engine: 'the Podman machine' },
  { name: /^qemu-system-/i, engine: 'a virtual machine (Podman machine, Colima or Lima)' },
  { name: /^wslrelay(\.exe)?$/i, engine: 'WSL (a program or container in a WSL distro)' },
  { name: /^rancher[- ]desktop/i, engine: 'Rancher Desktop' },
];

/** The engine whose helper this is, from a process name (`lsof -Fc`) or a command line (/proc). */
export function engineHelper(command: string): string | undefined {
  const first = command.startsWith('/') ? command.split(/\s+-/)[0] : command;
  const name = first.split(/[\\/]/).pop() ?? first;
  return engineHelpers.find((h) => h.name.test(name) || h.name.test(command))?.engine;
}

/** `docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 9000 -container-ip 172.18.0.2 -container-port 9000` */
export function forwardedTo(command: string): { containerIp?: string; containerPort?: number } {
  const ip = /-container-ip\s+(\S+)/.exec(command)?.[1];
  const port = /-container-port\s+(\d+)/.exec(command)?.[1];
  return { containerIp: ip, containerPort: port ? Number(port) : undefined };
}

/**
 * The container a forwarder forwards to: by its address on a Docker network (any state: one being started does not
 * list its published ports yet).
 */
export async function containerByAddress(docker: DockerApi, ip: string): Promise<ContainerSummary | undefined> {
  const list = await docker.listContainers({ all: true });
  return list.find((c) => Object.values(c.NetworkSettings?.Networks ?? {}).some((n) => n.IPAddress === ip));
}

/** A container publishing this host port (on any address that overlaps `hostIp`). */
export async function containerOnPort(docker: DockerApi, port: number, hostIp = '127.0.0.1') {
  const list = await docker.listContainers({ all: false });
  for (const c of list) {
    for (const p of c.Ports ?? []) {
      if (p.PublicPort !== port || p.Type !== 'tcp') continue;
      const ip = p.IP ?? '0.0.0.0';
      if (ip === hostIp || ip === '0.0.0.0' || ip === '::' || hostIp === '0.0.0.0') {
        return containerHolder(c);
      }
    }
  }
  return undefined;
}

/** Parses /proc/net/tcp{,6} text: the socket inodes listening on `port`. */
export function listeningInodes(procNetTcp: string, port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes: string[] = [];
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [, local, , st] = cols;
    if (st === '0A' && local.toUpperCase().endsWith(`:${hex}`)) inodes.push(cols[9]);
  }
  return inodes;
}

/** Linux: who listens on the port, from /proc (no tools needed; other users' processes stay anonymous). */
export async function processOnPortLinux(port: number, proc = '/proc'): Promise<PortHolder | undefined> {
  const inodes = new Set<string>();
  for (const f of ['net/tcp', 'net/tcp6']) {
    try {
      for (const i of listeningInodes(await readFile(`${proc}/${f}`, 'utf8'), port)) inodes.add(i);
    } catch {
      /* no IPv6 */
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = (await readdir(proc).catch(() => [])).filter((d) => /^\d+$/.test(d));
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`${proc}/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      const target = await readlink(`${proc}/${pid}/fd/${fd}`).catch(() => '');
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        const cmdline = (await readFile(`${proc}/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0').filter(Boolean).join(' ');
        const comm = (await readFile(`${proc}/${pid}/comm`, 'utf8').catch(() => '')).trim();
        return { kind: 'process', pid: Number(pid), command: cmdline || comm || '?' };
      }
    }
  }
  return { kind: 'unknown', detail: 'a process this user may not inspect (try `sudo ss -ltnp`)' };
}

/** macOS and others: lsof, when installed. */
export async function processOnPortLsof(exec: Exec, port: number): Promise<PortHolder | undefined> {
  // +c0: the whole command name (lsof cuts it to 9 characters otherwise: "com.docke").
  const r = await exec.run('lsof', ['+c0', '-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { allowFail: true }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  const pid = /^p(\d+)$/m.exec(r.stdout)?.[1];
  const cmd = /^c(.+)$/m.exec(r.stdout)?.[1];
  return pid ? { kind: 'process', pid: Number(pid), command: cmd ?? '?' } : undefined;
}

/** Where to look when we cannot tell who holds the port, for the OS the CLI runs on. */
export function unknownHolderHint(port: number, platform: NodeJS.Platform, wsl = false): string {
  if (platform === 'win32') {
    return `a program Windows does not name here (\`netstat -ano | findstr :${port}\` shows its PID, \`tasklist /FI "PID eq <pid>"\` its name), or, if nothing listens, a range Windows reserves (\`netsh int ipv4 show excludedportrange protocol=tcp\`)`;
  }
  if (wsl) {
    return `a process this user may not inspect (\`sudo ss -ltnp\`), or a Windows program (in PowerShell: \`netstat -ano | findstr :${port}\`)`;
  }
  if (platform === 'linux') return 'a process this user may not inspect (try `sudo ss -ltnp`)';
  return `a process of another user (try \`sudo lsof -nP -iTCP:${port} -sTCP:LISTEN\`)`;
}

/** Linux under WSL2 (its kernel says so). */
export async function inWsl(proc = '/proc'): Promise<boolean> {
  return /microsoft|wsl/i.test(await readFile(`${proc}/sys/kernel/osrelease`, 'utf8').catch(() => ''));
}

export async function findPortHolder(
  port: number,
  deps: { docker?: DockerApi; exec: Exec; platform?: NodeJS.Platform; hostIp?: string; proc?: string },
): Promise<PortHolder> {
  if (deps.docker) {
    const c = await containerOnPort(deps.docker, port, deps.hostIp).catch(() => undefined);
    if (c) return c;
  }
  const platform = deps.platform ?? process.platform;
  const wsl = platform === 'linux' && (await inWsl(deps.proc));
  const p =
    platform === 'linux' ? await processOnPortLinux(port, deps.proc) : platform === 'win32' ? undefined : await processOnPortLsof(deps.exec, port);
  if (p?.kind === 'process' && isDockerForwarder(p.command)) {
    const to = forwardedTo(p.command);
    const c = to.containerIp && deps.docker ? await containerByAddress(deps.docker, to.containerIp).catch(() => undefined) : undefined;
    return c ? containerHolder(c) : { kind: 'docker', hostPort: port, ...to };
  }
  if (p?.kind === 'process') {
    const engine = engineHelper(p.command);
    if (engine) return { kind: 'engine', engine, pid: p.pid, command: p.command };
  }
  if (p?.kind === 'unknown') return { kind: 'unknown', detail: unknownHolderHint(port, platform, wsl) };
  return p ?? { kind: 'unknown', detail: unknownHolderHint(port, platform, wsl) };
}

export function describeHolder(h: PortHolder): string {
  if (h.kind === 'container') {
    return `container "${h.name}"${h.project ? ` (compose project "${h.project}"${h.service ? `, service "${h.service}"` : ''})` : ''}`;
  }
  if (h.kind === 'docker') return `a container Docker is starting or stopping${h.containerIp ? ` (at ${h.containerIp}${h.containerPort ? `:${h.containerPort}` : ''})` : ''}`;
  if (h.kind === 'process') return `process ${h.pid} (${short(h.command)})`;
  if (h.kind === 'engine') return `a container of another engine: ${h.engine} forwards the port (process ${h.pid}, ${short(h.command)})`;
  return h.detail;
}

const short = (command: string) => (command.length > 80 ? command.slice(0, 77) + '...' : command);

export function holderFix(h: PortHolder, setting: string): string {
  const other = `or choose another port: ${setting}=<port>`;
  if (h.kind === 'container') {
    if (h.project) return `stop it: \`docker compose -p ${h.project} down\` (or \`docker stop ${h.name}\`), ${other}`;
    return `stop it: \`docker stop ${h.name}\`, ${other}`;
  }
  if (h.kind === 'docker') return `see which container publishes it: \`docker ps -a --filter publish=${h.hostPort}\`, and stop that container; ${other}`;
  if (h.kind === 'process') return `stop process ${h.pid} (\`kill ${h.pid}\`), ${other}`;
  if (h.kind === 'engine') {
    // Never the forwarder's pid: killing it breaks that engine's networking, not the container.
    return `find the container in that engine (\`docker context ls\`, then \`docker --context <name> ps\`) and stop it, ${other}`;
  }
  return `free the port, ${other}`;
}

/**
 * A port conflict in `docker compose up`'s output: the host port, or undefined. Docker Engine says "port is
 * already allocated" or "address already in use"; Docker Desktop on Windows (and from WSL2) passes Windows' own
 * bind errors through: WSAEADDRINUSE "Only one usage of each socket address …" and WSAEACCES "… forbidden by its
 * access permissions" (an excluded port range) (docker/for-win#6613, dataelement/bisheng#1368).
 */
export function portConflictIn(output: string): number | undefined {
  const m =
    /Bind for [\d.:[\]a-f]+:(\d+) failed: port is already allocated/i.exec(output) ??
    /listen tcp[46]?[^:]*:? ?(?:[\d.]+|\[[\da-f:]*\]):(\d+): bind: (?:address already in use|Only one usage of each socket address|An attempt was made to access a socket in a way forbidden by its access permissions)/i.exec(output) ??
    /Ports are not available: exposing port TCP (?:[\d.]+|\[[\da-f:]*\]):(\d+)/i.exec(output);
  return m ? Number(m[1]) : undefined;
}
