/**
 * Engine tests: the compose runtime and the lifecycle commands against a real Docker engine, with stand-in images
 * (test/support/stand-ins.ts) set through the image-override feature; everything else (the rendered compose file,
 * health checks, depends_on, volumes, ports on 127.0.0.1) is the real thing. Every case asserts on engine state.
 * Cases run concurrently, each in its own compose project, state dir and host ports. Faults (ports, crashes, Ctrl-C,
 * an unreachable or restarted engine, corrupt state, locks, memory, disk) are in fault-matrix.test.ts.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable, standInImages } from '../support/stand-ins.js';
import { podmanUnavailable, startPodman, type PodmanService } from '../support/podman-service.js';
import { createSandbox, docker as sharedDocker, execIn, type Sandbox } from './harness.js';

const why = engineUnavailable();
skipGroup('engine tests (stand-in)', why, { requiredInCI: true });
// The same cases on Podman (docker compose v2 against Podman's Docker API socket): required in CI, which installs it.
const whyNoPodman = why ?? podmanUnavailable();
skipGroup('engine tests on Podman (stand-in)', whyNoPodman, { requiredInCI: true });
let podman: PodmanService | undefined;

/** The engines the cases run on: the shared dockerd, and Podman through its own service. */
const engines = [
  { name: 'Docker Engine', skip: Boolean(why), engine: () => undefined },
  { name: 'Podman', skip: Boolean(whyNoPodman), engine: () => ({ host: podman!.host, docker: podman!.docker }) },
];

const sandboxes: Sandbox[] = [];

const running = async (s: Sandbox) => (await s.containers(false)).map((c) => c.Labels['com.docker.compose.service']).sort();
const starts = async (s: Sandbox, service: string, dir: string) => {
  const c = (await s.containers(false)).find((x) => x.Labels['com.docker.compose.service'] === service)!;
  return (await execIn(c.Id, ['cat', `${dir}/standin-starts`], s.docker)).trim().split('\n').length;
};
const longRunning = ['alloy', 'demo', 'gateway', 'grafana', 'loki', 'mimir', 'socket-proxy', 'store', 'tempo'];

describe.each(engines)('compose runtime on $name (stand-in images)', ({ name: engineName, skip, engine }) => {
// Podman 4.3's API service answers slowly while several projects start at once (its /info took over 8 s here):
// its cases run one after another.
describe.skipIf(skip)[engineName === 'Podman' ? 'sequential' : 'concurrent']('cases', () => {
  let docker = sharedDocker;
  const tally = { ran: 0, passed: 0 };
  /** An engine case: counted, so CI shows how many ran against the engine. */
  function engineCase(name: string, fn: () => Promise<void>, timeout: number) {
    it(name, async () => {
      tally.ran++;
      await fn();
      tally.passed++;
    }, timeout);
  }
  const sandbox = async (project: string, behaviours: Parameters<typeof createSandbox>[1] = {}) => {
    const s = await createSandbox(project, behaviours, {}, engine());
    sandboxes.push(s);
    return s;
  };
  beforeAll(async () => {
    if (engineName === 'Podman') {
      podman = await startPodman();
      docker = podman.docker;
    }
    // Build every stand-in variant once, before the cases race for them.
    standInImages({}, undefined, engine()?.host);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sandboxes.filter((s) => s.docker === docker).map((s) => s.cleanup()));
    const version = (await docker.version().catch(() => ({ Version: '?' }))).Version;
    console.log(`engine tests (stand-in images, ${engineName} ${version}): ${tally.ran} ran, ${tally.passed} passed`);
    if (engineName === 'Podman') await podman?.stop();
  }, 120_000);

  engineCase('stand-in: up, then status, then up again (no duplicates, nothing changed), then down', async () => {
    const s = await sandbox('life');
    const up = await s.run('up', '--no-open', '--json');
    expect(up.code, JSON.stringify(up.json.error)).toBe(ExitCode.ok);
    expect(up.json).toMatchObject({ ok: true, alreadyRunning: false, runtime: 'compose', project: s.project });
    expect(up.json.components.map((c: { name: string }) => c.name)).toEqual(['store', 'buckets', 'tempo', 'mimir', 'loki', 'alloy', 'grafana', 'demo', 'gateway']);
    for (const c of up.json.components) expect(c.readySeconds, c.name).toBeGreaterThan(0);
    // Engine state: every long-running component runs, the bucket job completed, ports bound to 127.0.0.1 only.
    expect(await running(s)).toEqual(longRunning);
    const all = await s.containers();
    const buckets = all.find((c) => c.Labels['com.docker.compose.service'] === 'buckets')!;
    expect(buckets.State).toBe('exited');
    expect((await docker.getContainer(buckets.Id).inspect()).State.ExitCode).toBe(0);
    const grafana = all.find((c) => c.Labels['com.docker.compose.service'] === 'grafana')!;
    expect(grafana.Ports).toContainEqual(expect.objectContaining({ IP: '127.0.0.1', PrivatePort: 3000, PublicPort: s.hostPorts['grafana.http'] }));
    expect(grafana.Labels['com.mop-sandbox.component']).toBe('grafana');
    // Credentials: generated once, in a 0600 state file, passed as env, never written into the compose file.
    const state = JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8'));
    expect(statSync(join(s.stateDir, 'state.json')).mode & 0o777).toBe(0o600);
    const compose = readFileSync(join(s.stateDir, 'compose', 'docker-compose.yml'), 'utf8');
    expect(compose).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const grafanaInfo = await docker.getContainer(grafana.Id).inspect();
    // Files the engine can see: every bind of configs and dashboards comes from the state directory's copies.
    const binds = grafanaInfo.Mounts.filter((m: { Type: string }) => m.Type === 'bind').map((m: { Source: string }) => m.Source);
    expect(binds.length).toBeGreaterThan(0);
    for (const source of binds) expect(source.startsWith(join(s.stateDir, 'compose') + '/'), source).toBe(true);
    const env = grafanaInfo.Config.Env;
    expect(env).toContain(`GF_SECURITY_ADMIN_PASSWORD=${state.credentials.GRAFANA_ADMIN_PASSWORD}`);
    expect(up.stdout).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);

    const status = await s.run('status', '--json');
    expect(status.code).toBe(ExitCode.ok);
    expect(status.json).toMatchObject({ running: true, healthy: true });
    expect(status.json.components).toContainEqual({ name: 'grafana', state: 'running', health: 'healthy', url: `http://127.0.0.1:${s.hostPorts['grafana.http']}/` });
    expect(status.json.components).toContainEqual(expect.objectContaining({ name: 'buckets', state: 'completed' }));
    expect(JSON.stringify(status.json)).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const secrets = await s.run('status', '--show-secrets');
    expect(secrets.stdout).toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const creds = await s.run('credentials', '--json');
    expect(creds.json.credentials).toMatchObject(state.credentials);

    const logs = await s.run('logs', 'tempo', '--tail', '20');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('stand-in tempo: listening on');
    const open = await s.run('open', 'grafana', '--json');
    expect(open.json).toMatchObject({ component: 'grafana', url: `http://127.0.0.1:${s.hostPorts['grafana.http']}/`, opened: false });
    const doctor = await s.run('doctor', '--json');
    expect(doctor.code, JSON.stringify(doctor.json?.checks)).toBe(ExitCode.ok);

    // up again: prints the status, changes nothing.
    const ids = all.map((c) => c.Id).sort();
    const again = await s.run('up', '--no-open');
    expect(again.code).toBe(ExitCode.ok);
    expect(again.stdout).toContain('already running');
    expect((await s.containers()).map((c) => c.Id).sort()).toEqual(ids);

    const down = await s.run('down');
    expect(down.code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
    expect(await s.networks()).toEqual([]);
    expect((await s.volumes()).length).toBe(6);
    const after = await s.run('status');
    expect(after.code).toBe(ExitCode.failure);
    expect(after.stdout).toContain('not running');
  }, 240_000);

  engineCase('stand-in: another project with the same compose name is refused by up and untouched by down (exit 3)', async () => {
    const s = await sandbox('twin');
    // Someone else's compose project that happens to use our project name: a container with only the project label.
    const image = s.images.buckets;
    const twin = await docker.createContainer({
      Image: image,
      Entrypoint: ['/bin/sh', '-c', 'sleep 300'],
      Labels: { 'com.docker.compose.project': s.project, 'com.docker.compose.service': 'web' },
      HostConfig: { NetworkMode: 'none' },
    });
    try {
      await twin.start();
      const up = await s.run('up', '--no-open', '--json');
      expect(up.code).toBe(ExitCode.preflight);
      expect(up.json.error).toMatchObject({ code: 'PROJECT_TAKEN' });
      expect(up.json.error.next).toMatch(/MOP_PROJECT/);
      const down = await s.run('down', '--purge');
      expect(down.code).toBe(ExitCode.ok);
      expect((await twin.inspect()).State.Running).toBe(true);
    } finally {
      await twin.remove({ force: true }).catch(() => undefined);
    }
  }, 120_000);

  engineCase('stand-in: every component runs non-root (the socket proxy too on a rootful dockerd, through the socket\'s group); the store and Mimir own their fresh volumes; Alloy knows its stack and holds no socket', async () => {
    const s = await sandbox('users');
    const up = await s.run('up', '--no-open');
    expect(up.code, up.stderr).toBe(ExitCode.ok);
    const byService = new Map((await s.containers()).map((c) => [c.Labels['com.docker.compose.service'], c]));
    for (const name of longRunning.filter((n) => n !== 'socket-proxy')) {
      const uid = (await execIn(byService.get(name)!.Id, ['id', '-u'], s.docker)).trim();
      // The socket proxy needs root only where the socket's group cannot be given to it (Podman); on this rootful
      // dockerd it has it. Alloy holds no socket and is never root.
      expect(uid === '0', `${name} runs as uid ${uid}`).toBe(name === 'socket-proxy' && engineName === 'Podman');
    }
    // The stand-ins recorded their start in the data directory, which only works once the ownership step ran.
    expect(await starts(s, 'store', '/data')).toBe(1);
    expect(await starts(s, 'mimir', '/data')).toBe(1);
    expect((await execIn(byService.get('store')!.Id, ['stat', '-c', '%u', '/data'], s.docker)).trim()).toBe('1000');
    const owner = byService.get('data-owner')!;
    expect((await docker.getContainer(owner.Id).inspect()).State.ExitCode).toBe(0);
    const alloy = await docker.getContainer(byService.get('alloy')!.Id).inspect();
    expect(alloy.Config.Env).toContain(`MOP_STACK_ID=${s.project}`);
    expect(alloy.Config.User).toBe('473:473');
    expect(alloy.HostConfig.GroupAdd ?? []).toEqual([]);
    expect(alloy.Config.Env).toContain('MOP_DOCKER_HOST=tcp://socket-proxy:2375');
    expect(alloy.Mounts.filter((m) => m.Type === 'bind' && /\.sock$/.test(`${m.Source} ${m.Destination}`))).toEqual([]);
    // The engine's own socket, read-only, in the socket proxy only; SELinux labels off on Podman only.
    const proxy = await docker.getContainer(byService.get('socket-proxy')!.Id).inspect();
    const socket = engineName === 'Podman' ? podman!.socket : '/var/run/docker.sock';
    expect(proxy.Mounts).toContainEqual(expect.objectContaining({ Type: 'bind', Source: socket, Destination: '/var/run/docker.sock', RW: false }));
    // Docker reports the dropped set as ALL, Podman as the capabilities it dropped.
    expect(proxy.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: expect.arrayContaining(engineName === 'Podman' ? ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID'] : ['ALL']) });
    expect(proxy.HostConfig.CapAdd ?? []).toEqual([]);
    expect(proxy.NetworkSettings.Ports ?? {}).toEqual({});
    if (engineName === 'Docker Engine') {
      expect(proxy.Config.User).toBe('1000:1000');
      expect(proxy.HostConfig.GroupAdd).toEqual([String(statSync('/var/run/docker.sock').gid)]);
    } else {
      expect(proxy.Config.User).toBe('0:0');
      expect(proxy.HostConfig.GroupAdd ?? []).toEqual([]);
    }
    for (const c of [alloy, proxy]) expect(c.HostConfig.SecurityOpt ?? []).toEqual(engineName === 'Podman' ? expect.arrayContaining(['label=disable']) : expect.not.arrayContaining(['label=disable']));
    // Alloy's component API (the stand-in serves Alloy 1.18.1's shapes) finds containers when the socket proxy answers
    // at the host its config names: no warning.
    const status = await s.run('status', '--json');
    const proxyLogs = async () => String(await s.docker.getContainer(proxy.Id).logs({ stdout: true, stderr: true }));
    expect(status.json.warnings, status.json.warnings.length ? `socket proxy: ${proxy.State.Status}\n${await proxyLogs()}\nfrom Alloy: ${await execIn(alloy.Id, ['sh', '-c', 'wget -S -O- http://socket-proxy:2375/_ping 2>&1'], s.docker)}` : '').toEqual([]);
    for (const c of await s.containers()) expect(c.Labels['dev.mop-sandbox.stack'], c.Names[0]).toBe(s.project);
  }, 240_000);

  // Engine-independent (the status command and Alloy's component API): on the shared engine only, to spare CI time.
  if (engineName === 'Docker Engine') {
    engineCase('stand-in: status warns when Alloy\'s docker discovery finds no containers (its Docker API answers nothing)', async () => {
      const s = await sandbox('nologs', { alloy: { dockerHost: 'tcp://socket-proxy:1' } });
      const up = await s.run('up', '--no-open');
      expect(up.code, up.stderr).toBe(ExitCode.ok);
      const status = await s.run('status', '--json');
      // Still healthy (Alloy is up), but said: the logs do not reach Loki.
      expect(status.json).toMatchObject({ running: true, healthy: true });
      expect(status.json.warnings).toEqual([expect.stringMatching(/^container logs are not reaching Loki: discovery\.docker\.containers finds no containers/)]);
      const human = await s.run('status');
      expect(human.stderr + human.stdout).toContain('container logs are not reaching Loki');
    }, 240_000);
  }

  engineCase('stand-in: data written before down is there after the next up; down --purge removes it', async () => {
    const s = await sandbox('data');
    const first = await s.run('up', '--no-open');
    expect(first.code, first.stderr).toBe(ExitCode.ok);
    expect(await starts(s, 'tempo', '/var/tempo')).toBe(1);
    const creds = JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8')).credentials;
    expect((await s.run('down')).code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);

    const second = await s.run('up', '--no-open');
    expect(second.code, second.stderr).toBe(ExitCode.ok);
    expect(await starts(s, 'tempo', '/var/tempo')).toBe(2); // same volume: the first start's line is still there
    expect(await starts(s, 'grafana', '/var/lib/grafana')).toBe(2);
    expect(JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8')).credentials).toEqual(creds); // reused

    const purge = await s.run('down', '--purge');
    expect(purge.code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
    expect(await s.volumes()).toEqual([]);
    expect(await s.networks()).toEqual([]);
    expect(existsSync(join(s.stateDir, 'state.json'))).toBe(false);
    expect(existsSync(join(s.stateDir, 'compose'))).toBe(false);
  }, 240_000);
});
});
