import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingExec } from '../support/fake-exec.js';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptsConnections, canBind, containerOnPort, describeHolder, engineHelper, findPortHolder, forwardedTo, holderFix, isDockerForwarder, listeningInodes, portConflictIn, portFree, processOnPortLinux, processOnPortLsof } from '../../scripts/lib/ports.js';
import { unusedPort } from '../support/host-ports.js';
import { fakeDocker } from './fakes.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
function listen(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    servers.push(s);
    s.listen({ host, port: 0 }, () => resolve((s.address() as { port: number }).port));
  });
}

describe('host ports', () => {
  it('tells a free port from a taken one by binding it', async () => {
    const taken = await listen();
    expect(await canBind('127.0.0.1', taken)).toBe(false);
    expect(await canBind('127.0.0.1', await unusedPort())).toBe(true);
  });

  it('sees a port taken on 0.0.0.0 as taken on 127.0.0.1', async () => {
    const taken = await listen('0.0.0.0');
    expect(await canBind('127.0.0.1', taken)).toBe(false);
  });

  // The macOS case (a wildcard listener that a 127.0.0.1 bind does not see) cannot be made on Linux; a listener on
  // [::1] alone is the same shape here: the bind on 127.0.0.1 succeeds, and a "localhost" client would reach the other
  // program. Only the connect test sees it.
  const v6 = new Promise<boolean>((resolve) => {
    const probe = createServer().once('error', () => resolve(false));
    probe.listen({ host: '::1', port: 0 }, () => probe.close(() => resolve(true)));
  });
  it('counts a port as taken when something answers on [::1] or 127.0.0.1, although the bind succeeds', async (ctx) => {
    if (!(await v6)) {
      console.log('[::1] connect test skipped: this machine has no IPv6 loopback');
      return ctx.skip();
    }
    const port = await listen('::1');
    expect(await canBind('127.0.0.1', port)).toBe(true);
    expect(await acceptsConnections('::1', port)).toBe(true);
    expect(await portFree('127.0.0.1', port)).toBe(false);
    expect(await portFree('127.0.0.1', await unusedPort())).toBe(true);
  });

  it('parses /proc/net/tcp for listening sockets on a port', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0BB8 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 100 0 0 10 0',
      '   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(listeningInodes(text, 3000)).toEqual(['4242']);
    expect(listeningInodes(text, 8080)).toEqual(['4444']);
    expect(listeningInodes(text, 9000)).toEqual([]);
  });

  if (process.platform !== 'linux') console.log(`/proc port-holder test skipped: ${process.platform} has no /proc/net/tcp`);
  it.runIf(process.platform === 'linux')('names the process holding a port from /proc', async () => {
    const port = await listen();
    const holder = await processOnPortLinux(port);
    expect(holder).toMatchObject({ kind: 'process', pid: process.pid });
    expect(describeHolder(holder!)).toMatch(new RegExp(`^process ${process.pid} \\(`));
    expect(await processOnPortLinux(await unusedPort())).toBeUndefined();
  });

  it('names the process from lsof on macOS', async () => {
    const exec = recordingExec({ lsof: { stdout: 'p4711\ncnode\nf22\n' } });
    expect(await processOnPortLsof(exec, 3000)).toEqual({ kind: 'process', pid: 4711, command: 'node' });
    expect(exec.calls[0].args).toEqual(['+c0', '-nP', '-iTCP:3000', '-sTCP:LISTEN', '-Fpc']);
  });

  it('prefers a container publishing the port, by name and compose project', async () => {
    const { docker } = fakeDocker({
      containers: [
        { id: 'a', name: 'other-grafana-1', project: 'other', service: 'grafana', state: 'running', ports: [{ private: 3000, public: 3000, ip: '0.0.0.0' }] },
        { id: 'b', name: 'vite', project: '', service: '', state: 'running', ports: [{ private: 5173, public: 5173 }] },
      ],
    });
    const h = await findPortHolder(3000, { docker, exec: recordingExec(), platform: 'linux' });
    expect(h).toEqual({ kind: 'container', name: 'other-grafana-1', id: 'a', project: 'other', service: 'grafana' });
    expect(describeHolder(h)).toBe('container "other-grafana-1" (compose project "other", service "grafana")');
    expect(holderFix(h, 'MOP_PORT_GRAFANA_HTTP')).toBe(
      'stop it: `docker compose -p other down` (or `docker stop other-grafana-1`), or choose another port: MOP_PORT_GRAFANA_HTTP=<port>',
    );
    expect(await containerOnPort(docker, 5173)).toMatchObject({ name: 'vite' });
    expect(await containerOnPort(docker, 4000)).toBeUndefined();
  });

  it('traces a port held by docker-proxy to the container it forwards to; the advice never names docker-proxy', async () => {
    const proxy = '/usr/bin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 3000 -container-ip 172.18.0.5 -container-port 3000';
    expect(isDockerForwarder(proxy)).toBe(true);
    expect(isDockerForwarder('node server.js')).toBe(false);
    expect(forwardedTo(proxy)).toEqual({ containerIp: '172.18.0.5', containerPort: 3000 });
    // The container is being started: it does not list its published ports yet, but has its address.
    const { docker } = fakeDocker({
      containers: [{ id: 'c1', name: 'mop-sandbox-grafana-1', project: 'mop-sandbox', service: 'grafana', state: 'created', ip: '172.18.0.5' }],
    });
    const lsof = recordingExec({ lsof: { stdout: 'p4711\ncdocker-proxy -container-ip 172.18.0.5 -container-port 3000\n' } });
    const h = await findPortHolder(3000, { docker, exec: lsof, platform: 'darwin' });
    expect(h).toEqual({ kind: 'container', name: 'mop-sandbox-grafana-1', id: 'c1', project: 'mop-sandbox', service: 'grafana' });
    // Not traceable (the container is gone already): still no docker-proxy and no kill in the advice.
    const gone = await findPortHolder(3000, { docker: fakeDocker({}).docker, exec: lsof, platform: 'darwin' });
    expect(gone).toEqual({ kind: 'docker', hostPort: 3000, containerIp: '172.18.0.5', containerPort: 3000 });
    for (const holder of [h, gone]) {
      const words = `${describeHolder(holder)} ${holderFix(holder, 'MOP_PORT_GRAFANA_HTTP')}`;
      expect(words).not.toMatch(/docker-proxy|kill/);
    }
    expect(holderFix(gone, 'MOP_PORT_GRAFANA_HTTP')).toContain('docker ps -a --filter publish=3000');
  });

  it("names another engine's port forwarder as that engine's container, never as a process to kill", async () => {
    // lsof -Fc names (macOS) and /proc command lines (Linux) of each product's forwarder.
    const helpers: [string, RegExp][] = [
      ['com.docker.backend', /Docker Desktop/],
      ['com.docker.vpnkit', /Docker Desktop/],
      ['vpnkit-bridge', /Docker Desktop/],
      ['OrbStack Helper', /OrbStack/],
      ['limactl', /Lima/],
      ['ssh', /Lima or Colima.*ssh tunnel of yours/],
      ['/usr/bin/ssh -F /home/me/.lima/colima/ssh.config -L 127.0.0.1:3000:127.0.0.1:3000 lima-colima', /Lima or Colima/],
      ['gvproxy', /Podman machine/],
      ['/opt/homebrew/bin/qemu-system-aarch64 -machine virt', /virtual machine/],
      ['wslrelay.exe', /WSL/],
      ['rancher-desktop', /Rancher Desktop/],
    ];
    for (const [command, engine] of helpers) expect(engineHelper(command), command).toMatch(engine);
    for (const other of ['node', 'python3 -m http.server', 'sshd', '/usr/bin/docker-proxy -proto tcp']) expect(engineHelper(other), other).toBeUndefined();

    const lsof = recordingExec({ lsof: { stdout: 'p812\nccom.docker.backend\n' } });
    const h = await findPortHolder(3000, { docker: fakeDocker({}).docker, exec: lsof, platform: 'darwin' });
    expect(h).toEqual({ kind: 'engine', engine: 'Docker Desktop', pid: 812, command: 'com.docker.backend' });
    expect(describeHolder(h)).toBe('a container of another engine: Docker Desktop forwards the port (process 812, com.docker.backend)');
    expect(holderFix(h, 'MOP_PORT_GRAFANA_HTTP')).toBe('find the container in that engine (`docker context ls`, then `docker --context <name> ps`) and stop it, or choose another port: MOP_PORT_GRAFANA_HTTP=<port>');
    expect(holderFix(h, 'X')).not.toMatch(/kill/);
    // A plain program is still a process to stop.
    const node = await findPortHolder(3000, { exec: recordingExec({ lsof: { stdout: 'p99\ncnode\n' } }), platform: 'darwin' });
    expect(holderFix(node, 'X')).toMatch(/^stop process 99 \(`kill 99`\)/);
  });

  it('on Windows runs no lsof and points at netstat and the reserved port ranges', async () => {
    const exec = recordingExec({});
    const h = await findPortHolder(3000, { exec, platform: 'win32' });
    expect(exec.calls).toEqual([]);
    expect(h.kind).toBe('unknown');
    expect(describeHolder(h)).toContain('`netstat -ano | findstr :3000`');
    expect(describeHolder(h)).toContain('`netsh int ipv4 show excludedportrange protocol=tcp`');
    expect(describeHolder(h)).not.toMatch(/lsof/);
  });

  it('inside WSL2 says the holder may be on the Windows side; on macOS suggests sudo lsof, not the lsof that failed', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'mop-proc-'));
    mkdirSync(join(proc, 'sys/kernel'), { recursive: true });
    mkdirSync(join(proc, 'net'));
    writeFileSync(join(proc, 'sys/kernel/osrelease'), '5.15.153.1-microsoft-standard-WSL2\n');
    // A listener on 3000 whose owner this user cannot see (no /proc/<pid> entries).
    writeFileSync(join(proc, 'net/tcp'), 'header\n   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0 100 0 0 10 0\n');
    const wsl = await findPortHolder(3000, { exec: recordingExec({}), platform: 'linux', proc });
    expect(describeHolder(wsl)).toMatch(/a Windows program \(in PowerShell: `netstat -ano \| findstr :3000`\)/);
    const mac = await findPortHolder(3000, { exec: recordingExec({ lsof: { exitCode: 1 } }), platform: 'darwin' });
    expect(describeHolder(mac)).toContain('`sudo lsof -nP -iTCP:3000 -sTCP:LISTEN`');
  });

  it("recognises compose's port conflicts, Docker Desktop on Windows and WSL2 included", () => {
    // Docker Engine (moby) wording.
    expect(portConflictIn('Error response from daemon: driver failed programming external connectivity on endpoint x: Bind for 127.0.0.1:3000 failed: port is already allocated')).toBe(3000);
    expect(portConflictIn('Error starting userland proxy: listen tcp4 127.0.0.1:3100: bind: address already in use')).toBe(3100);
    // Docker Desktop on Windows passes Windows' bind errors through (docker/for-win#6613, dataelement/bisheng#1368).
    expect(
      portConflictIn('Error response from daemon: Ports are not available: exposing port TCP 127.0.0.1:8080 -> 0.0.0.0:0: listen tcp 127.0.0.1:8080: bind: Only one usage of each socket address (protocol/network address/port) is normally permitted.'),
    ).toBe(8080);
    expect(
      portConflictIn('Error response from daemon: Ports are not available: exposing port TCP 127.0.0.1:4317 -> 0.0.0.0:0: listen tcp 127.0.0.1:4317: bind: An attempt was made to access a socket in a way forbidden by its access permissions.'),
    ).toBe(4317);
    expect(portConflictIn('Error response from daemon: pull access denied for x')).toBeUndefined();
  });
});
