/**
 * Platform decisions from recorded engine answers: each fixture in fixtures/engines/ is one product's `docker info`
 * and `docker version` (GET /info, GET /version) with the endpoint the CLI resolves for it, and names where it comes
 * from (two are recorded on this machine: Debian's dockerd and Debian's podman 4.3). From those answers alone:
 * which product, rootless or not, SELinux, ECI, OSType, memory, the Docker socket the socket proxy mounts, SELinux labels, CPU
 * limits, and the checks `up`/`doctor` show.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspectEngine, type DockerEndpoint, type EngineInfoRaw, type EngineVersionRaw } from '../../scripts/lib/docker.js';
import { planEngine, type HostProbe } from '../../scripts/runtimes/engine-plan.js';
import { fakeDocker } from './fakes.js';

interface EngineFixture {
  _source: string;
  platform: NodeJS.Platform;
  endpoint: DockerEndpoint;
  info: EngineInfoRaw;
  version: EngineVersionRaw;
}

const dir = join(import.meta.dirname, 'fixtures', 'engines');
const fixture = (name: string): EngineFixture => JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));

/** This host as the decisions see it: the local engines' sockets exist; systemd delegates `controllers` to uid 1000. */
const host = (controllers: string[] | undefined = ['cpuset', 'cpu', 'io', 'memory', 'pids'], sockets = ['/var/run/docker.sock', '/tmp/mop-podman.sock', '/run/user/1000/podman/podman.sock', '/run/user/1000/docker.sock']): HostProbe => ({
  socketKind: (p) => (sockets.includes(p) ? 'socket' : 'missing'),
  delegatedControllers: () => controllers,
  uid: 1000,
});

async function decide(name: string, probe = host()) {
  const f = fixture(name);
  const engine = await inspectEngine(fakeDocker({ info: f.info, version: f.version }).docker, f.endpoint);
  return { engine, ...planEngine(engine, f.platform, probe) };
}

const expected: Record<string, { product: string; rootless: boolean; selinux: boolean; socket: string | undefined; labelsOff: boolean; memGiB: number }> = {
  'docker-desktop-mac': { product: 'Docker Desktop', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 7.7 },
  'docker-desktop-windows-wsl2': { product: 'Docker Desktop', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 7.7 },
  'docker-desktop-windows-containers': { product: 'Docker Desktop', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 31.8 },
  'docker-desktop-eci': { product: 'Docker Desktop', rootless: false, selinux: false, socket: undefined, labelsOff: false, memGiB: 7.7 },
  colima: { product: 'Colima', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 1.9 },
  orbstack: { product: 'OrbStack', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 15.4 },
  'rancher-desktop-moby': { product: 'Rancher Desktop', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 3.8 },
  'podman-machine-mac': { product: 'Podman', rootless: true, selinux: true, socket: '/var/run/docker.sock', labelsOff: true, memGiB: 1.9 },
  'podman-rootless-linux': { product: 'Podman', rootless: true, selinux: false, socket: '/run/user/1000/podman/podman.sock', labelsOff: true, memGiB: 15.4 },
  'podman-rootful-linux': { product: 'Podman', rootless: false, selinux: false, socket: '/tmp/mop-podman.sock', labelsOff: true, memGiB: 23.5 },
  'docker-rootless-linux': { product: 'dockerd', rootless: true, selinux: false, socket: '/run/user/1000/docker.sock', labelsOff: false, memGiB: 15.4 },
  'dockerd-linux': { product: 'dockerd', rootless: false, selinux: false, socket: '/var/run/docker.sock', labelsOff: false, memGiB: 0 },
};

describe('platform decisions from recorded engine answers (fixtures/engines)', () => {
  it('has a fixture for every product, each naming its source', () => {
    const names = readdirSync(dir).map((f) => f.replace(/\.json$/, '')).sort();
    expect(names).toEqual(Object.keys(expected).sort());
    for (const n of names) expect(fixture(n)._source, n).toMatch(/https?:\/\/|Recorded on this project/);
  });

  for (const [name, want] of Object.entries(expected)) {
    it(`${name}: ${want.product}${want.rootless ? ', rootless' : ''}, socket ${want.socket ?? 'none'}`, async () => {
      const { engine, adaptations } = await decide(name);
      expect(engine.product).toBe(want.product);
      expect(engine.rootless).toBe(want.rootless);
      expect(engine.selinux).toBe(want.selinux);
      expect(adaptations.dockerSocket).toBe(want.socket);
      expect(adaptations.disableSelinuxLabels).toBe(want.labelsOff);
      // Memory is the engine's own (the VM's on VM products), as the memory preflight reads it.
      if (want.memGiB) expect(Number((engine.memTotal / 1024 ** 3).toFixed(1))).toBe(want.memGiB);
      else expect(engine.memTotal).toBeGreaterThan(0);
    });
  }

  it("the socket proxy reads the socket without root only on a rootful local dockerd, through the socket's group; elsewhere the check says why root", async () => {
    const withGroup = { ...host(), socketGroup: (p: string) => (p === '/var/run/docker.sock' ? 105 : 1000) };
    const groups = Object.fromEntries(await Promise.all(Object.keys(expected).map(async (n) => [n, (await decide(n, withGroup)).adaptations.dockerSocketGroup] as const)));
    expect(Object.entries(groups).filter(([, g]) => g !== undefined)).toEqual([['dockerd-linux', 105]]);
    const socketCheck = async (n: string) => (await decide(n, withGroup)).checks.find((c) => c.id === 'docker-socket')!.detail;
    expect(await socketCheck('dockerd-linux')).toBe("/var/run/docker.sock (the engine's own socket); the socket proxy reads it as the Node image's user (uid 1000) with the socket's group 105; Alloy gets only the proxy's read-only calls");
    expect(await socketCheck('docker-rootless-linux')).toMatch(/the socket proxy reads it as root: a rootless engine maps its user to root inside containers/);
    expect(await socketCheck('podman-rootful-linux')).toMatch(/the socket proxy reads it as root: the socket's group on Podman cannot be given/);
    // A group that cannot be read: root, and said so.
    expect((await decide('dockerd-linux')).adaptations.dockerSocketGroup).toBeUndefined();
  });

  it('Windows-containers mode fails the preflight with the switch to make; Linux engines pass it', async () => {
    const win = await decide('docker-desktop-windows-containers');
    expect(win.engine.osType).toBe('windows');
    expect(win.checks.find((c) => c.id === 'os-type')).toMatchObject({ ok: false, severity: 'error', fix: expect.stringContaining('Switch to Linux containers') });
    for (const n of ['docker-desktop-mac', 'podman-rootful-linux', 'dockerd-linux']) expect((await decide(n)).checks.find((c) => c.id === 'os-type'), n).toBeUndefined();
  });

  it('ECI: no socket mount, and a warning that names the setting', async () => {
    const { engine, checks } = await decide('docker-desktop-eci');
    expect(engine.eci).toBe(true);
    expect(checks.find((c) => c.id === 'docker-socket')).toMatchObject({ ok: false, severity: 'warn', detail: expect.stringContaining('Enhanced Container Isolation') });
    expect((await decide('docker-desktop-mac')).engine.eci).toBe(false);
  });

  it('a local engine whose socket is missing or is a directory renders without the socket and says which path', async () => {
    const missing = await decide('docker-rootless-linux', host(undefined, []));
    expect(missing.adaptations.dockerSocket).toBeUndefined();
    expect(missing.checks.find((c) => c.id === 'docker-socket')?.detail).toContain('/run/user/1000/docker.sock does not exist');
    const dirProbe: HostProbe = { ...host(), socketKind: () => 'other' };
    const directory = await decide('dockerd-linux', dirProbe);
    expect(directory.adaptations.dockerSocket).toBeUndefined();
    expect(directory.checks.find((c) => c.id === 'docker-socket')).toMatchObject({ detail: expect.stringContaining('is not a socket'), fix: expect.stringContaining('leftover') });
  });

  it('a VM product never looks at the host path (the socket is inside the VM)', async () => {
    const { adaptations } = await decide('colima', host(undefined, []));
    expect(adaptations.dockerSocket).toBe('/var/run/docker.sock');
  });

  it('rootless engines without cpu delegation render no CPU limits, with a note; with delegation, or rootful, they keep them', async () => {
    for (const n of ['podman-rootless-linux', 'docker-rootless-linux']) {
      const without = await decide(n, host(['memory', 'pids']));
      expect(without.adaptations.cpuLimits, n).toBe(false);
      expect(without.checks.find((c) => c.id === 'cpu-limits'), n).toMatchObject({ severity: 'warn', detail: expect.stringContaining('memory, pids'), fix: expect.stringContaining('Delegate=cpu') });
      expect((await decide(n, host())).adaptations.cpuLimits, n).toBe(true);
    }
    expect((await decide('dockerd-linux', host(['memory', 'pids']))).adaptations.cpuLimits).toBe(true);
    // In a VM the host's delegation says nothing about the VM's.
    expect((await decide('podman-machine-mac', host(['memory', 'pids']))).adaptations.cpuLimits).toBe(true);
  });

  it('a remote engine: no socket to mount, and a warning that its ports are out of reach', async () => {
    const f = fixture('dockerd-linux');
    const engine = await inspectEngine(fakeDocker({ info: f.info, version: f.version }).docker, { host: 'tcp://10.0.0.5:2376', source: 'DOCKER_HOST' });
    const { adaptations, checks } = planEngine(engine, 'linux', host());
    expect(adaptations.dockerSocket).toBeUndefined();
    expect(checks.map((c) => c.id)).toEqual(['docker-socket', 'remote']);
    expect(checks[1]).toMatchObject({ severity: 'warn', detail: expect.stringContaining('127.0.0.1 on that host') });
  });
});
