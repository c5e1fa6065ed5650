/**
 * The socket proxy (config/socket-proxy/socket-proxy.mjs) as a real process in front of the real engine's socket,
 * driven by the real Docker CLI: the Go Docker client, the library Alloy uses, so API version negotiation (/_ping),
 * the /v1.NN prefix and the paths are exercised for real, not as the test imagines them. The CLI reads what Alloy
 * reads (containers, one container, its logs, followed too, networks) and everything that would change the engine
 * is refused with the proxy's 403 and changes nothing. The container it reads is a stand-in the test creates.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../scripts/lib/paths.js';
import { unusedPort } from '../support/host-ports.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable, standInImages } from '../support/stand-ins.js';

const run = promisify(execFile);

/** The engine's own unix socket on this machine (DOCKER_HOST or the default), or why there is none. */
function engineSocket(): { path?: string; why?: string } {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (!host.startsWith('unix://')) return { why: `DOCKER_HOST ${host} is not a unix socket of this machine` };
  const path = host.slice('unix://'.length);
  try {
    return statSync(path).isSocket() ? { path } : { why: `${path} is not a socket` };
  } catch {
    return { why: `${path} does not exist` };
  }
}

const socket = engineSocket();
const why = engineUnavailable() ?? socket.why;
const skipped = skipGroup('socket proxy real-engine test', why, { requiredInCI: true });

const tag = `mop-sockproxy-${process.pid}`;
let proxy: ChildProcess | undefined;
let proxyErr = '';
let port = 0;
let id = '';
let otherId = '';

/** The Docker CLI, directly on the engine (setup, checks, cleanup). */
const direct = async (...args: string[]) => (await run('docker', args, { env: { ...process.env } })).stdout.trim();

/** The Docker CLI through the proxy: { code, stdout, stderr }. */
async function viaProxy(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('docker', args, { env: { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_CONTEXT: '' } });
    return { code: 0, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: String(x.stdout ?? '').trim(), stderr: String(x.stderr ?? '').trim() };
  }
}

beforeAll(async () => {
  if (skipped) return;
  port = await unusedPort();
  proxy = spawn(process.execPath, [join(packageRoot, 'config', 'socket-proxy', 'socket-proxy.mjs')], {
    // As `up` runs it by default: only containers with the stack's label (here the test's own) are listed or read.
    env: { PATH: process.env.PATH, MOP_SOCKET_PROXY_SOCKET: socket.path, MOP_SOCKET_PROXY_PORT: String(port), MOP_SOCKET_PROXY_HOST: '127.0.0.1', MOP_SOCKET_PROXY_ONLY_LABEL: `${tag}=1` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proxy.stderr!.on('data', (d) => (proxyErr += d));
  await new Promise<void>((resolve, reject) => {
    proxy!.stdout!.on('data', (d) => String(d).includes('socket proxy:') && resolve());
    proxy!.on('exit', (code) => reject(new Error(`the socket proxy exited with ${code}: ${proxyErr}`)));
  });
  // A stand-in that prints a few lines and keeps running, labelled and named for cleanup.
  const image = standInImages().tempo;
  id = await direct('run', '-d', '--name', `${tag}-reader`, '--label', `${tag}=1`, '-e', 'MOP_TEST_SECRET=not-for-alloy', image);
  for (let i = 0; i < 100 && !(await direct('logs', id)).includes('listening on'); i++) await new Promise((r) => setTimeout(r, 100));
  // Another project's container: same engine, not the stack's label.
  otherId = await direct('run', '-d', '--name', `${tag}-other`, '--label', `${tag}-other=1`, '-e', 'MOP_TEST_SECRET=theirs', image);
}, 120_000);

afterAll(async () => {
  proxy?.kill('SIGTERM');
  if (skipped) return;
  const ids = [...(await direct('ps', '-aq', '--filter', `label=${tag}=1`)).split('\n'), ...(await direct('ps', '-aq', '--filter', `label=${tag}-other=1`)).split('\n')].filter(Boolean);
  if (ids.length) await direct('rm', '-f', ...ids);
  await direct('volume', 'rm', '-f', `${tag}-vol`).catch(() => undefined);
});

describe.skipIf(skipped)('socket proxy in front of the real engine, driven by the real Docker CLI (stand-in container)', () => {
  it('passes what Alloy reads: docker ps (filters too), container inspect, logs, logs --follow, network ls', async () => {
    const ps = await viaProxy('ps', '--no-trunc', '--filter', `label=${tag}=1`, '--format', '{{.ID}} {{.Names}}');
    expect(ps, ps.stderr).toMatchObject({ code: 0, stdout: `${id} ${tag}-reader` });

    const inspect = await viaProxy('container', 'inspect', '--format', '{{.Id}} {{.State.Running}} {{.Config.Tty}}', id);
    expect(inspect, inspect.stderr).toMatchObject({ code: 0, stdout: `${id} true false` });
    // The environment (other containers' credentials) is dropped on the way; the engine still has it.
    expect(await viaProxy('container', 'inspect', '--format', '{{json .Config.Env}}', id)).toMatchObject({ code: 0, stdout: 'null' });
    expect(await direct('container', 'inspect', '--format', '{{json .Config.Env}}', id)).toContain('MOP_TEST_SECRET=not-for-alloy');

    const logs = await viaProxy('logs', '--timestamps', id);
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ stand-in tempo: starting/);
    expect(logs.stdout).toContain('stand-in tempo: listening on');

    // --follow: the engine's stream comes through as it is written (the stand-in's endless loop is silent, so the
    // lines already there arrive, then the stream stays open until the client goes away).
    const follow = spawn('docker', ['logs', '--follow', id], { env: { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_CONTEXT: '' } });
    let followed = '';
    await new Promise<void>((resolve, reject) => {
      follow.stdout.on('data', (d) => {
        followed += d;
        if (followed.includes('listening on')) resolve();
      });
      follow.on('exit', (code) => reject(new Error(`docker logs --follow ended (${code}) before any line: ${followed}`)));
    });
    expect(follow.exitCode).toBeNull();
    follow.kill('SIGTERM');

    const networks = await viaProxy('network', 'ls', '--format', '{{.Name}}');
    expect(networks.code, networks.stderr).toBe(0);
    expect(networks.stdout.split('\n')).toContain('bridge');
  }, 60_000);

  it('keeps to the stack: lists only containers with its label, refuses inspect and logs of another project\'s container', async () => {
    // Every container on the engine but ours is left out, whatever the caller asks for.
    const all = await viaProxy('ps', '-a', '--no-trunc', '--format', '{{.ID}}');
    expect(all, all.stderr).toMatchObject({ code: 0, stdout: id });
    expect(await direct('ps', '-aq', '--no-trunc', '--filter', `id=${otherId}`)).toBe(otherId);
    for (const args of [['logs', otherId], ['container', 'inspect', otherId], ['logs', `${tag}-other`]]) {
      const r = await viaProxy(...args);
      expect(r.code, `docker ${args.join(' ')}: ${r.stdout}`).not.toBe(0);
      expect(r.stderr, `docker ${args.join(' ')}`).toMatch(new RegExp(`is not part of this stack \\(no label ${tag}=1\\)`));
      expect(r.stdout).not.toContain('theirs');
    }
    expect(proxyErr).toMatch(/is not part of this stack/);
  }, 60_000);

  it('refuses docker run, rm, exec, volume create, stop and image pull with its 403, and the engine is unchanged', async () => {
    const before = await direct('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}', '--filter', `label=${tag}=1`);
    const image = standInImages().tempo;
    const attempts: [string[], RegExp][] = [
      [['run', '-d', '--name', `${tag}-evil`, '--label', `${tag}=1`, '-v', '/:/host', image], /POST \/v1\.\d+\/containers\/create is refused by the mop-sandbox socket proxy/],
      [['rm', '-f', id], /DELETE \/v1\.\d+\/containers\/\w+ is refused by the mop-sandbox socket proxy/],
      [['exec', id, 'true'], /POST \/v1\.\d+\/containers\/\w+\/exec is refused by the mop-sandbox socket proxy/],
      [['volume', 'create', `${tag}-vol`], /POST \/v1\.\d+\/volumes\/create is refused by the mop-sandbox socket proxy/],
      [['stop', '-t', '0', id], /POST \/v1\.\d+\/containers\/\w+\/stop is refused by the mop-sandbox socket proxy/],
      [['pull', 'busybox'], /POST \/v1\.\d+\/images\/create\?\S* is refused by the mop-sandbox socket proxy|POST \/v1\.\d+\/images\/create is refused/],
    ];
    for (const [args, message] of attempts) {
      const r = await viaProxy(...args);
      expect(r.code, `docker ${args.join(' ')}: ${r.stdout}`).not.toBe(0);
      expect(r.stderr, `docker ${args.join(' ')}`).toMatch(message);
    }
    // Nothing changed: the same one container, still running; no volume.
    expect(await direct('ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}', '--filter', `label=${tag}=1`)).toBe(before);
    expect(before).toBe(`${id} running`);
    expect(await direct('volume', 'ls', '-q', '--filter', `name=${tag}-vol`)).toBe('');
    // Each refusal is on the proxy's stderr.
    expect(proxyErr).toMatch(/refused POST \/v1\.\d+\/containers\/create/);
    expect(proxyErr).toMatch(/refused DELETE \/v1\.\d+\/containers\//);
  }, 60_000);
});
