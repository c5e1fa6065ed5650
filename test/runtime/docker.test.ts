import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cliEnv,
  demuxLogs,
  detectProduct,
  inspectEngine,
  logTail,
  modemOptions,
  resolveEndpoint,
  supportsStartInterval,
  unreachableError,
  type DockerEndpoint,
  type EngineVersionRaw,
} from '../../scripts/lib/docker.js';
import { ExitCode } from '../../scripts/lib/errors.js';
import { fakeDocker, framed } from './fakes.js';

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const home = () => {
  const d = mkdtempSync(join(tmpdir(), 'mop-docker-'));
  temps.push(d);
  return d;
};

function withContext(name: string, host: string, current = true) {
  const h = home();
  const cfg = join(h, '.docker');
  const meta = join(cfg, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
  mkdirSync(meta, { recursive: true });
  writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host } } }));
  if (current) writeFileSync(join(cfg, 'config.json'), JSON.stringify({ currentContext: name }));
  return h;
}

describe('Docker endpoint resolution', () => {
  it('honours DOCKER_HOST first', () => {
    expect(resolveEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2375', HOME: home() }, 'linux')).toEqual({ host: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST' });
  });

  it('reads the current context from the docker CLI config', () => {
    const h = withContext('colima', 'unix:///Users/me/.colima/default/docker.sock');
    expect(resolveEndpoint({ HOME: h }, 'darwin')).toEqual({ host: 'unix:///Users/me/.colima/default/docker.sock', source: 'context', context: 'colima' });
  });

  it('lets DOCKER_CONTEXT pick a context that is not current', () => {
    const h = withContext('orbstack', 'unix:///Users/me/.orbstack/run/docker.sock', false);
    expect(resolveEndpoint({ HOME: h, DOCKER_CONTEXT: 'orbstack' }, 'darwin')).toMatchObject({ source: 'context', context: 'orbstack' });
  });

  it('falls back to the default socket', () => {
    expect(resolveEndpoint({ HOME: home() }, 'linux', () => true)).toEqual({ host: 'unix:///var/run/docker.sock', source: 'default' });
    expect(resolveEndpoint({ HOME: home() }, 'win32').host).toBe('npipe:////./pipe/docker_engine');
  });

  it('without a usable system socket on Linux, finds a rootless engine: rootless Docker first, then rootless Podman', () => {
    const env = { HOME: home(), XDG_RUNTIME_DIR: '/run/user/1000' };
    const only = (...paths: string[]) => (p: string) => paths.includes(p);
    const podman = resolveEndpoint(env, 'linux', only('/run/user/1000/podman/podman.sock'));
    expect(podman).toEqual({ host: 'unix:///run/user/1000/podman/podman.sock', source: 'default', rootlessFallback: true });
    // The docker CLI does not look there: compose and the other docker commands get DOCKER_HOST, so both address one engine.
    expect(cliEnv(podman, { HOME: '/h' })).toEqual({ HOME: '/h', DOCKER_HOST: 'unix:///run/user/1000/podman/podman.sock' });
    expect(cliEnv({ host: 'unix:///var/run/docker.sock', source: 'default' }, { HOME: '/h' })).toEqual({ HOME: '/h' });
    expect(resolveEndpoint(env, 'linux', only('/run/user/1000/docker.sock', '/run/user/1000/podman/podman.sock')).host).toBe('unix:///run/user/1000/docker.sock');
    // A usable system socket wins; with nothing usable, the system socket is named (its error says how to start an engine).
    expect(resolveEndpoint(env, 'linux', only('/var/run/docker.sock', '/run/user/1000/podman/podman.sock')).host).toBe('unix:///var/run/docker.sock');
    expect(resolveEndpoint(env, 'linux', only()).host).toBe('unix:///var/run/docker.sock');
    // DOCKER_HOST and contexts still come first.
    expect(resolveEndpoint({ ...env, DOCKER_HOST: 'unix:///x.sock' }, 'linux', only('/run/user/1000/podman/podman.sock')).host).toBe('unix:///x.sock');
  });

  it('turns endpoints into explicit dockerode options (so process.env.DOCKER_HOST cannot override them)', () => {
    expect(modemOptions({ host: 'unix:///run/user/1000/podman/podman.sock', source: 'DOCKER_HOST' }, {})).toMatchObject({ socketPath: '/run/user/1000/podman/podman.sock', host: undefined });
    expect(modemOptions({ host: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST' }, {})).toMatchObject({ protocol: 'http', host: '10.0.0.5', port: '2375', socketPath: undefined });
    expect(modemOptions({ host: 'ssh://me@box', source: 'context', context: 'box' }, {})).toMatchObject({ protocol: 'ssh', host: 'box', username: 'me' });
  });
});

describe('which product answered', () => {
  const ep = (host: string, context?: string): DockerEndpoint => ({ host, source: context ? 'context' : 'default', context });
  it.each([
    [{ OperatingSystem: 'Docker Desktop', Name: 'docker-desktop' }, {}, ep('unix:///Users/me/.docker/run/docker.sock', 'desktop-linux'), 'Docker Desktop'],
    [{ OperatingSystem: 'Ubuntu 24.04 LTS', Name: 'colima' }, {}, ep('unix:///Users/me/.colima/default/docker.sock', 'colima'), 'Colima'],
    [{ OperatingSystem: 'OrbStack', Name: 'orbstack' }, {}, ep('unix:///Users/me/.orbstack/run/docker.sock', 'orbstack'), 'OrbStack'],
    [{ OperatingSystem: 'fedora', Name: 'fedora' }, { Components: [{ Name: 'Podman Engine', Version: '5.2.0' }] }, ep('unix:///run/user/1000/podman/podman.sock'), 'Podman'],
    [{ OperatingSystem: 'Rancher Desktop WSL Distribution', Name: 'lima-rancher-desktop' }, {}, ep('unix:///Users/me/.rd/docker.sock', 'rancher-desktop'), 'Rancher Desktop'],
    [{ OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', Name: 'ci-host' }, { Components: [{ Name: 'Engine', Version: '20.10.24' }] }, ep('unix:///var/run/docker.sock'), 'dockerd'],
  ] as const)('%j -> %s', (info, version, endpoint, product) => {
    expect(detectProduct(info, version as EngineVersionRaw, endpoint)).toBe(product);
  });

  it('uses healthcheck.start_interval only from API 1.44 (Engine 25) on, never on Podman', () => {
    expect(supportsStartInterval({ apiVersion: '1.41', version: '20.10.24', product: 'dockerd' })).toBe(false);
    expect(supportsStartInterval({ apiVersion: '1.43', version: '24.0.7', product: 'dockerd' })).toBe(false);
    expect(supportsStartInterval({ apiVersion: '1.44', version: '25.0.0', product: 'dockerd' })).toBe(true);
    expect(supportsStartInterval({ apiVersion: '1.47', version: '27.3.1', product: 'Docker Desktop' })).toBe(true);
    expect(supportsStartInterval({ apiVersion: '1.41', version: '5.2.0', product: 'Podman' })).toBe(false);
  });

  it('reads the engine through an injected client', async () => {
    const { docker } = fakeDocker({ info: { OperatingSystem: 'Docker Desktop', MemTotal: 8e9 }, version: { Version: '27.3.1', ApiVersion: '1.47' } });
    const e = await inspectEngine(docker, { host: 'unix:///x.sock', source: 'default' });
    expect(e).toMatchObject({ product: 'Docker Desktop', version: '27.3.1', apiVersion: '1.47', memTotal: 8e9 });
  });
});

describe('Docker unreachable', () => {
  it('says where it looked, why, and how to start the engine (exit code 3)', () => {
    const err = unreachableError({ host: 'unix:///var/run/docker.sock', source: 'default' }, Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }), 'linux');
    expect(err).toMatchObject({ code: 'DOCKER_UNREACHABLE', exitCode: ExitCode.preflight });
    expect(err.what).toBe('Docker is not reachable at unix:///var/run/docker.sock');
    expect(err.why).toMatch(/no socket at that path/);
    expect(err.next).toMatch(/systemctl start docker/);
  });

  it('names the runtime-specific start command and the setting that chose the endpoint', () => {
    const colima = unreachableError({ host: 'unix:///Users/me/.colima/default/docker.sock', source: 'context', context: 'colima' }, new Error('ECONNREFUSED'), 'darwin');
    expect(colima.what).toContain('(from the docker context "colima")');
    expect(colima.next).toMatch(/colima start/);
    expect(colima.next).toMatch(/docker context use default/);
    const dh = unreachableError({ host: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST' }, new Error('timeout'), 'linux');
    expect(dh.what).toContain('(from DOCKER_HOST)');
    expect(dh.next).toMatch(/unset DOCKER_HOST/);
    const mac = unreachableError({ host: 'unix:///Users/me/.docker/run/docker.sock', source: 'default' }, new Error('x'), 'darwin');
    expect(mac.next).toMatch(/Docker Desktop/);
  });

  it('explains a permission problem on the socket', () => {
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    const err = unreachableError({ host: 'unix:///var/run/docker.sock', source: 'default' }, eacces, 'linux', (p) => p);
    expect(err.next).toMatch(/usermod -aG docker/);
    // podman-docker links the Docker socket to rootful Podman's: the docker group would not help; the user's own Podman would.
    const podman = unreachableError({ host: 'unix:///var/run/docker.sock', source: 'default' }, eacces, 'linux', () => '/run/podman/podman.sock');
    expect(podman.next).toContain('/run/podman/podman.sock is rootful Podman\'s socket');
    expect(podman.next).toContain('systemctl --user enable --now podman.socket');
    expect(podman.next).toContain('DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock');
    expect(podman.next).not.toMatch(/usermod/);
  });

  it('Podman and Rancher Desktop get their own hints (the podman socket unit; Rancher\'s containerd engine serves no Docker API)', () => {
    const enoent = Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' });
    const podman = unreachableError({ host: 'unix:///run/user/1000/podman/podman.sock', source: 'default' }, enoent, 'linux');
    expect(podman.next).toContain('systemctl --user enable --now podman.socket');
    expect(unreachableError({ host: 'unix:///var/folders/x/podman-machine-default-api.sock', source: 'DOCKER_HOST' }, enoent, 'darwin').next).toContain('podman machine start');
    const rd = unreachableError({ host: 'unix:///Users/me/.rd/docker.sock', source: 'context', context: 'rancher-desktop' }, enoent, 'darwin');
    expect(rd.next).toContain('dockerd (moby)');
    expect(rd.next).toContain('containerd engine serves no Docker API');
    // On plain Linux, the rootless engines are named beside the system service.
    const linux = unreachableError({ host: 'unix:///var/run/docker.sock', source: 'default' }, enoent, 'linux');
    expect(linux.next).toContain('systemctl --user start docker');
    expect(linux.next).toContain('podman.socket');
  });
});

describe('logs', () => {
  it('demultiplexes framed stdout/stderr and passes TTY output through', () => {
    expect(demuxLogs(framed(['a', 'b']))).toBe('a\nb\n');
    expect(demuxLogs(Buffer.from('plain\n'), true)).toBe('plain\n');
    expect(demuxLogs(Buffer.from('not framed\n'))).toBe('not framed\n');
  });

  it('returns the last lines of a container', async () => {
    const { docker } = fakeDocker({ containers: [{ id: 'c1', name: 'p-tempo-1', project: 'p', service: 'tempo', state: 'exited', logs: ['one', 'two', 'three'] }] });
    expect(await logTail(docker, 'c1', 2)).toEqual(['two', 'three']);
  });
});
