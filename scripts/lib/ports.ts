/**
 * Host ports: is a port free on the bind address, and if not, who holds it (a container by name, else a process
 * where the OS tells us). A port held by Docker's own forwarder (docker-proxy, rootlessport) is traced back to the
 * container that publishes it: killing the forwarder would break Docker's networking, so it is never the advice.
 */
import { createServer } from 'node:net';
import { readdir, readFile, readlink } from 'node:fs/promises';
import type { Exec } from './exec.js';
import { containerName, type ContainerSummary, type DockerApi } from './docker.js';

export type PortHolder =
  | { kind: 'container'; name: string; id: string; project?: string; service?: string }
  /** Docker forwards the port for a container we could not identify (it may be being created or removed). */
  | { kind: 'docker'; hostPort: number; containerIp?: string; containerPort?: number }
  | { kind: 'process'; pid: number; command: string }
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

/** A free port on 127.0.0.1 (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      server.close(() => resolve(port));
    });
  });
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
  const r = await exec.run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpc'], { allowFail: true }).catch(() => undefined);
  if (!r || r.exitCode !== 0) return undefined;
  const pid = /^p(\d+)$/m.exec(r.stdout)?.[1];
  const cmd = /^c(.+)$/m.exec(r.stdout)?.[1];
  return pid ? { kind: 'process', pid: Number(pid), command: cmd ?? '?' } : undefined;
}

export async function findPortHolder(
  port: number,
  deps: { docker?: DockerApi; exec: Exec; platform?: NodeJS.Platform; hostIp?: string },
): Promise<PortHolder> {
  if (deps.docker) {
    const c = await containerOnPort(deps.docker, port, deps.hostIp).catch(() => undefined);
    if (c) return c;
  }
  const platform = deps.platform ?? process.platform;
  const p = platform === 'linux' ? await processOnPortLinux(port) : await processOnPortLsof(deps.exec, port);
  if (p?.kind === 'process' && isDockerForwarder(p.command)) {
    const to = forwardedTo(p.command);
    const c = to.containerIp && deps.docker ? await containerByAddress(deps.docker, to.containerIp).catch(() => undefined) : undefined;
    return c ? containerHolder(c) : { kind: 'docker', hostPort: port, ...to };
  }
  return p ?? { kind: 'unknown', detail: 'the OS does not say which process (try `lsof -i :' + port + '`)' };
}

export function describeHolder(h: PortHolder): string {
  if (h.kind === 'container') {
    return `container "${h.name}"${h.project ? ` (compose project "${h.project}"${h.service ? `, service "${h.service}"` : ''})` : ''}`;
  }
  if (h.kind === 'docker') return `a container Docker is starting or stopping${h.containerIp ? ` (at ${h.containerIp}${h.containerPort ? `:${h.containerPort}` : ''})` : ''}`;
  if (h.kind === 'process') return `process ${h.pid} (${h.command.length > 80 ? h.command.slice(0, 77) + '...' : h.command})`;
  return h.detail;
}

export function holderFix(h: PortHolder, setting: string): string {
  const other = `or choose another port: ${setting}=<port>`;
  if (h.kind === 'container') {
    if (h.project) return `stop it: \`docker compose -p ${h.project} down\` (or \`docker stop ${h.name}\`), ${other}`;
    return `stop it: \`docker stop ${h.name}\`, ${other}`;
  }
  if (h.kind === 'docker') return `see which container publishes it: \`docker ps -a --filter publish=${h.hostPort}\`, and stop that container; ${other}`;
  if (h.kind === 'process') return `stop process ${h.pid} (\`kill ${h.pid}\`), ${other}`;
  return `free the port, ${other}`;
}
