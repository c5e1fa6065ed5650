import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { recordingExec } from '../support/fake-exec.js';
import { canBind, containerOnPort, describeHolder, findPortHolder, forwardedTo, freePort, holderFix, isDockerForwarder, listeningInodes, processOnPortLinux, processOnPortLsof } from '../../scripts/lib/ports.js';
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
    expect(await canBind('127.0.0.1', await freePort())).toBe(true);
  });

  it('sees a port taken on 0.0.0.0 as taken on 127.0.0.1', async () => {
    const taken = await listen('0.0.0.0');
    expect(await canBind('127.0.0.1', taken)).toBe(false);
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
    expect(exec.calls[0].args).toEqual(['-nP', '-iTCP:3000', '-sTCP:LISTEN', '-Fpc']);
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
});
