import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { recordingExec } from '../support/fake-exec.js';
import { checkBuildx, checkCompose, checkConfigFiles, checkDocker, checkMemory, checkPorts, memoryNeeds, parseBytes, portSetting, preflightError, recommendedEngineGiB } from '../../scripts/runtimes/preflight.js';
import { composeFeatures, composeNeeds } from '../../scripts/runtimes/compose-version.js';
import { composeDocument } from '../../scripts/render/compose.js';
import type { Engine } from '../../scripts/lib/docker.js';
import { engineResourcesFix } from '../../scripts/runtimes/engine-resources.js';
import { configDir, dashboardsDir } from '../../scripts/lib/paths.js';
import { buildStack } from '../../scripts/stack/model.js';
import { unusedPort } from '../support/host-ports.js';
import { fakeDocker } from './fakes.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});
const occupy = (port: number) =>
  new Promise<void>((resolve) => {
    const s = createServer();
    servers.push(s);
    s.listen({ host: '127.0.0.1', port }, () => resolve());
  });

async function stackOnFreePorts() {
  const base = buildStack({});
  const hostPorts: Record<string, number> = {};
  for (const p of base.published) hostPorts[`${p.component}.${p.name}`] = await unusedPort();
  return buildStack({ hostPorts });
}

describe('preflight: Docker', () => {
  it('passes and says which product answered where', async () => {
    const { docker } = fakeDocker({ info: { OperatingSystem: 'Docker Desktop' }, version: { Version: '27.3.1', ApiVersion: '1.47' } });
    const r = await checkDocker({ exec: recordingExec(), env: {}, docker, endpoint: { host: 'unix:///Users/me/.docker/run/docker.sock', source: 'default' } });
    expect(r.check).toMatchObject({ ok: true, detail: 'Docker Desktop, Engine 27.3.1 (API 1.47) at unix:///Users/me/.docker/run/docker.sock' });
    expect(r.engine?.product).toBe('Docker Desktop');
  });

  it('fails with the reason and a fix when the engine does not answer', async () => {
    const { docker } = fakeDocker({ unreachable: Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }) });
    const r = await checkDocker({ exec: recordingExec(), env: {}, docker, platform: 'linux', endpoint: { host: 'unix:///var/run/docker.sock', source: 'default' } });
    expect(r.check.ok).toBe(false);
    expect(r.check.detail).toMatch(/^Docker is not reachable at unix:\/\/\/var\/run\/docker.sock: no socket/);
    expect(r.check.fix).toMatch(/systemctl start docker/);
    const err = preflightError([r.check])!;
    expect(err).toMatchObject({ code: 'DOCKER_UNREACHABLE', exitCode: ExitCode.preflight });
  });
});

describe('preflight: compose v2', () => {
  it('accepts compose 2.x', async () => {
    const exec = recordingExec({ 'docker compose version': { stdout: '2.26.1\n' } }, ['docker']);
    expect(await checkCompose({ exec, env: {} })).toMatchObject({ ok: true, detail: 'compose 2.26.1' });
    expect(exec.calls[0].args).toEqual(['compose', 'version', '--short']);
  });

  it('rejects a missing plugin, with install advice', async () => {
    const exec = recordingExec({ 'docker compose': { exitCode: 1, stderr: "docker: 'compose' is not a docker command.\nSee 'docker --help'" } }, ['docker']);
    const c = await checkCompose({ exec, env: {} });
    expect(c).toMatchObject({ ok: false, detail: "`docker compose` is not available (docker: 'compose' is not a docker command.)" });
    expect(c.fix).toMatch(/docker-compose-plugin/);
  });

  // Outputs recorded on this machine: podman-compose 1.0.3 (Debian) run as `podman-compose version --short` (what
  // `podman compose` would run with podman-compose as its provider), and `podman compose version` from podman 4.3.1
  // (what the podman-docker shim runs for `docker compose version`).
  it('recognises podman-compose and says how Podman users get compose v2', async () => {
    const stderr = "usage: podman-compose [-h] [-v] [-f file] [-p PROJECT_NAME]\n                      [--podman-path PODMAN_PATH] [--podman-args args]\npodman-compose: error: unrecognized arguments: --short\n";
    const c = await checkCompose({ exec: recordingExec({ 'docker compose': { exitCode: 2, stdout: "['podman', '--version', '']\nusing podman version: 4.3.1\n", stderr } }, ['docker']), env: {} });
    expect(c).toMatchObject({ ok: false, severity: 'error', detail: expect.stringContaining('runs podman-compose, which is not compose v2') });
    expect(c.fix).toContain('PODMAN_COMPOSE_PROVIDER');
    expect(c.fix).not.toMatch(/docker-compose-plugin/);
    // A newer podman-compose that answers `--short` is still podman-compose, not compose 2.x.
    const newer = await checkCompose({ exec: recordingExec({ 'docker compose': { stdout: 'podman-compose version 1.2.0\n' } }, ['docker']), env: {} });
    expect(newer.ok).toBe(false);
  });

  it('recognises the podman-docker shim on a Podman without `compose` (asks `docker --version` when compose fails)', async () => {
    const failing = { 'docker compose': { exitCode: 125, stderr: 'Error: unknown flag: --short\n' } };
    const c = await checkCompose({ exec: recordingExec({ ...failing, 'docker --version': { stdout: 'podman version 4.3.1\n' } }, ['docker']), env: {} });
    expect(c.detail).toContain('`docker` is Podman');
    expect(c.fix).toContain('DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock');
    // The real docker CLI keeps the plain diagnosis (no Podman advice).
    const docker = await checkCompose({ exec: recordingExec({ ...failing, 'docker --version': { stdout: 'Docker version 20.10.24+dfsg1, build 297e128\n' } }, ['docker']), env: {} });
    expect(docker.detail).toBe('`docker compose version` failed (Error: unknown flag: --short)');
    expect(docker.fix).not.toMatch(/Podman|podman/);
  });

  it('requires the release every feature of the rendered file needs, and names the feature', async () => {
    const doc = composeDocument(buildStack({}), { startInterval: true });
    const needs = composeNeeds(doc, ['up', '-d', '--pull', 'never']);
    expect(needs).toEqual(expect.arrayContaining([composeFeatures.projectName, composeFeatures.startInterval, composeFeatures.pullNever, composeFeatures.bindCreateHostPath]));
    // Each feature is counted only when the file has it.
    expect(composeNeeds(doc, [])).not.toContain(composeFeatures.pullNever);
    expect(composeNeeds(composeDocument(buildStack({}), { startInterval: false }), [])).not.toContain(composeFeatures.startInterval);
    const old = await checkCompose({ exec: recordingExec({ 'docker compose version': { stdout: 'v2.5.1\n' } }, ['docker']), env: {}, needs });
    expect(old).toMatchObject({
      ok: false,
      detail: 'found compose 2.5.1; the compose file needs 2.20.2 or later for `healthcheck.start_interval` (2.20.2), `up --pull never` (2.8.0)',
    });
    expect(old.fix).toMatch(/upgrade compose to 2\.20\.2 or later/);
    const ok = await checkCompose({ exec: recordingExec({ 'docker compose version': { stdout: '2.20.2-1\n' } }, ['docker']), env: {}, needs });
    expect(ok).toMatchObject({ ok: true, detail: 'compose 2.20.2-1 (the file needs 2.20.2 or later)' });
    // Without start_interval (an engine older than API 1.44), --pull never sets the bar.
    const plain = composeNeeds(composeDocument(buildStack({}), { startInterval: false }), ['--pull', 'never']);
    expect(await checkCompose({ exec: recordingExec({ 'docker compose version': { stdout: '2.8.0\n' } }, ['docker']), env: {}, needs: plain })).toMatchObject({ ok: true });
  });

  it('does not blame compose when the docker CLI itself fails or hangs', async () => {
    const hung = await checkCompose({ exec: recordingExec({ 'docker compose version': { exitCode: 124, stderr: 'stopped after 15s without finishing' } }, ['docker']), env: {} });
    expect(hung).toMatchObject({ ok: false, detail: '`docker compose version` did not answer within 15s' });
    expect(hung.fix).not.toMatch(/install compose/);
    const broken = await checkCompose({ exec: recordingExec({ 'docker compose version': { exitCode: 1, stderr: 'error loading config file: /home/me/.docker/config.json: invalid character' } }, ['docker']), env: {} });
    expect(broken.detail).toBe('`docker compose version` failed (error loading config file: /home/me/.docker/config.json: invalid character)');
    expect(broken.fix).not.toMatch(/install compose/);
    const exec = { ...recordingExec({}, ['docker']), run: async () => Promise.reject(new Error('C:\\bin\\docker.cmd is a batch file, which mop-sandbox does not run')) };
    expect((await checkCompose({ exec, env: {} })).detail).toMatch(/^the docker CLI could not be started: .*batch file/);
    const missing = await checkCompose({ exec: recordingExec({ 'docker compose': { exitCode: 1, stderr: 'docker: unknown command: docker compose\n' } }, ['docker']), env: {} });
    expect(missing.fix).toMatch(/install compose v2/);
  });

  it('warns about buildx older than 0.17 only with compose 2.40.2 or later', async () => {
    const exec = recordingExec({ 'docker buildx version': { stdout: 'github.com/docker/buildx v0.13.1 788433953af10f2a698f5c07611dddce2e08c7a0\n' } }, ['docker']);
    expect(await checkBuildx({ exec, env: {} }, '2.40.1')).toBeUndefined();
    expect(await checkBuildx({ exec, env: {} }, '2.40.2')).toMatchObject({ ok: false, severity: 'warn', detail: 'compose 2.40.2 needs buildx 0.17.0 or later to build the demo image; found buildx 0.13.1' });
    const newer = recordingExec({ 'docker buildx version': { stdout: 'github.com/docker/buildx v0.17.1 257815a\n' } }, ['docker']);
    expect(await checkBuildx({ exec: newer, env: {} }, '5.0.2')).toMatchObject({ ok: true });
    // No buildx plugin at all: compose falls back to the classic builder, nothing to warn about.
    expect(await checkBuildx({ exec: recordingExec({}, ['docker']), env: {} }, '5.0.2')).toBeUndefined();
  });

  it('rejects a missing docker CLI', async () => {
    const c = await checkCompose({ exec: recordingExec({}, []), env: {} });
    expect(c).toMatchObject({ ok: false, detail: 'the `docker` CLI is not on PATH' });
  });
});

describe('preflight: ports', () => {
  it('passes when every published port is free', async () => {
    const stack = await stackOnFreePorts();
    const checks = await checkPorts(stack, { exec: recordingExec() });
    expect(checks).toEqual([expect.objectContaining({ id: 'ports', ok: true, detail: `${stack.published.length} ports free on 127.0.0.1` })]);
  });

  it('names the container holding a port and how to free it', async () => {
    const stack = await stackOnFreePorts();
    const grafana = stack.published.find((p) => p.component === 'grafana')!;
    const { docker } = fakeDocker({
      containers: [{ id: 'x', name: 'squatter', project: '', service: '', state: 'running', ports: [{ private: 80, public: grafana.hostPort }] }],
    });
    const checks = await checkPorts(stack, { exec: recordingExec(), docker });
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ id: 'port:grafana.http', ok: false, detail: `127.0.0.1:${grafana.hostPort} (grafana.http) is taken by container "squatter"` });
    expect(checks[0].fix).toBe('stop it: `docker stop squatter`, or choose another port: MOP_PORT_GRAFANA_HTTP=<port>');
    const err = preflightError(checks)!;
    expect(err).toMatchObject({ code: 'PORT_IN_USE', exitCode: 3, what: checks[0].detail, next: checks[0].fix });
  });

  it('names a process holding a port', async () => {
    const stack = await stackOnFreePorts();
    const loki = stack.published.find((p) => p.component === 'loki')!;
    await occupy(loki.hostPort);
    const checks = await checkPorts(stack, { exec: recordingExec(), platform: 'linux' });
    expect(checks[0].detail).toMatch(new RegExp(`127.0.0.1:${loki.hostPort} \\(loki.http\\) is taken by process ${process.pid} `));
  });

  it('counts ports held by its own project as free (the stack is running)', async () => {
    const stack = await stackOnFreePorts();
    const grafana = stack.published.find((p) => p.component === 'grafana')!;
    const { docker } = fakeDocker({
      containers: [{ id: 'g', name: 'mop-sandbox-grafana-1', project: 'mop-sandbox', service: 'grafana', state: 'running', ports: [{ private: 3000, public: grafana.hostPort }] }],
    });
    expect((await checkPorts(stack, { exec: recordingExec(), docker, ownProject: 'mop-sandbox' }))[0].ok).toBe(true);
  });

  it('catches two components set to the same host port', async () => {
    const stack = buildStack({ hostPorts: { 'grafana.http': 45678, 'loki.http': 45678 } });
    const checks = await checkPorts(stack, { exec: recordingExec() });
    expect(checks.some((c) => !c.ok && /both set to host port 45678/.test(c.detail))).toBe(true);
  });

  it('spells the settings the way options.ts reads them', () => {
    expect(portSetting('alloy', 'otlp-grpc')).toBe('MOP_PORT_ALLOY_OTLP_GRPC');
    expect(portSetting('store', 's3')).toBe('MOP_PORT_STORE_S3');
  });
});

describe('preflight: memory, configs, and the combined error', () => {
  it('compares the engine memory with the profile requests', () => {
    const stack = buildStack({});
    const { requests, limits } = memoryNeeds(stack);
    expect(requests).toBe(parseBytes('2256Mi'));
    expect(checkMemory(stack, { memTotal: 16 * 1024 ** 3, product: 'dockerd' })).toMatchObject({ ok: true });
    const low = checkMemory(stack, { memTotal: 2 * 1024 ** 3, product: 'Docker Desktop' });
    expect(low).toMatchObject({ ok: false, severity: 'error', detail: 'the engine has 2.0 GiB, the default profile needs at least 2.2 GiB (its requests)' });
    expect(low.fix).toMatch(/Settings → Resources/);
    const between = checkMemory(stack, { memTotal: (requests + limits) / 2, product: 'Colima' });
    expect(between).toMatchObject({ ok: false, severity: 'warn' });
    expect(between.fix).toMatch(/colima start --memory/);
  });

  it('never suggests --profile dev for compose: its limits, all compose renders, are the default profile\'s', () => {
    const dev = buildStack({ profile: 'dev' });
    expect(memoryNeeds(dev).limits).toBe(memoryNeeds(buildStack({})).limits);
    for (const product of ['Docker Desktop', 'Colima', 'OrbStack', 'Podman', 'Rancher Desktop', 'dockerd'] as const) {
      for (const platform of ['darwin', 'linux', 'win32'] as const) {
        expect(checkMemory(buildStack({}), { memTotal: 1024 ** 3, product }, platform).fix).not.toMatch(/profile/);
      }
    }
  });

  it('recommends the limits plus 1 GiB for the VM, in each product\'s own unit and way', () => {
    const stack = buildStack({});
    expect(recommendedEngineGiB(stack)).toBe(Math.ceil(memoryNeeds(stack).limits / 1024 ** 3) + 1);
    const n = recommendedEngineGiB(stack);
    const fix = (product: Engine['product'], platform: NodeJS.Platform, kernel = '') => checkMemory(stack, { memTotal: 1024 ** 3, product, kernel }, platform).fix;
    // Kernel strings: Docker Desktop's WSL2 backend runs Microsoft's WSL kernel ("…-microsoft-standard-WSL2",
    // microsoft/WSL2-Linux-Kernel tags); on macOS Docker Desktop runs LinuxKit ("…-linuxkit").
    expect(fix('Docker Desktop', 'darwin', '6.10.14-linuxkit')).toBe(`give Docker Desktop ${n} GB: Settings → Resources → Advanced → Memory limit, then Apply & restart`);
    expect(fix('Docker Desktop', 'win32', '5.15.153.1-microsoft-standard-WSL2')).toMatch(new RegExp(`memory=${n}GB.*\\.wslconfig.*wsl --shutdown`));
    // The CLI inside a WSL distro (platform linux) talking to Docker Desktop: still .wslconfig.
    expect(fix('Docker Desktop', 'linux', '5.15.153.1-microsoft-standard-WSL2')).toMatch(/\.wslconfig/);
    expect(fix('Colima', 'darwin')).toBe(`restart Colima with ${n} GiB: \`colima stop && colima start --memory ${n}\``);
    // podman-machine-set(1): memory in MB, and the machine must be stopped first.
    expect(fix('Podman', 'darwin')).toBe(`the Podman machine must be stopped to change its memory: \`podman machine stop && podman machine set --memory ${n * 1024} && podman machine start\``);
    expect(fix('Podman', 'win32', '6.6.87.2-microsoft-standard-WSL2')).toMatch(/\.wslconfig/);
    expect(fix('Podman', 'linux')).toMatch(/Podman runs on this machine/);
    expect(fix('Rancher Desktop', 'darwin')).toMatch(/Preferences → Virtual Machine → Memory/);
    expect(fix('OrbStack', 'darwin')).toMatch(/OrbStack's memory limit/);
    expect(fix('dockerd', 'linux')).toMatch(/close other programs/);
  });

  it('asks for CPUs too where the check counts them (kind), in every product\'s way, WSL2 included', () => {
    const ask = { cpus: 3, gib: 4 };
    const fix = (product: Engine['product'], platform: NodeJS.Platform, kernel = '') => engineResourcesFix({ product, kernel }, platform, ask);
    expect(fix('Docker Desktop', 'darwin', '6.10.14-linuxkit')).toBe('give Docker Desktop 3 CPUs and 4 GB: Settings → Resources → Advanced → CPU limit and Memory limit, then Apply & restart');
    expect(fix('Docker Desktop', 'win32', '5.15.153.1-microsoft-standard-WSL2')).toBe(
      'Docker Desktop runs in WSL2, which takes its CPUs and memory from WSL: put `memory=4GB` and `processors=3` under `[wsl2]` in `%UserProfile%\\.wslconfig`, run `wsl --shutdown`, then start Docker Desktop again',
    );
    expect(fix('Rancher Desktop', 'win32', '5.15.153.1-microsoft-standard-WSL2')).toMatch(/processors=3/);
    expect(fix('Colima', 'darwin')).toBe('restart Colima with 3 CPUs and 4 GiB: `colima stop && colima start --cpu 3 --memory 4`');
    expect(fix('Podman', 'darwin')).toBe('the Podman machine must be stopped to change its CPUs and memory: `podman machine stop && podman machine set --cpus 3 --memory 4096 && podman machine start`');
    expect(fix('Podman', 'linux')).toBe('Podman runs on this machine: close other programs, or use a machine with 3 CPUs and 4 GiB');
    expect(fix('OrbStack', 'darwin')).toBe("raise OrbStack's memory limit to 4 GB and its CPU limit to 3 (OrbStack Settings → System)");
    expect(fix('Rancher Desktop', 'darwin')).toBe('give Rancher Desktop 3 CPUs and 4 GB: Preferences → Virtual Machine → CPUs and Memory');
    expect(fix('dockerd', 'darwin')).toBe("give the engine's virtual machine 3 CPUs and 4 GiB (its CPUs and memory are what `docker info` reports)");
  });

  it('parses memory quantities', () => {
    expect(parseBytes('256Mi')).toBe(256 * 1024 ** 2);
    expect(parseBytes('1Gi')).toBe(1024 ** 3);
    expect(parseBytes('500M')).toBe(5e8);
  });

  it('finds the package config files', () => {
    expect(checkConfigFiles(buildStack({}), 'compose', { config: configDir, dashboards: dashboardsDir }).ok).toBe(true);
    const missing = checkConfigFiles(buildStack({}), 'compose', { config: '/nonexistent', dashboards: dashboardsDir });
    expect(missing).toMatchObject({ ok: false });
    expect(missing.detail).toContain('/nonexistent/tempo/tempo.yaml');
  });

  it('lists every failed check with its fix when several fail; warnings do not block', () => {
    const checks = [
      { id: 'docker', title: 'd', ok: true, severity: 'error' as const, detail: 'ok' },
      { id: 'port:grafana.http', title: 'p', ok: false, severity: 'error' as const, detail: '127.0.0.1:3000 (grafana.http) is taken by container "x"', fix: 'stop x' },
      { id: 'memory', title: 'm', ok: false, severity: 'error' as const, detail: 'the engine has 2.0 GiB', fix: 'more' },
      { id: 'kind', title: 'k', ok: false, severity: 'warn' as const, detail: 'no kind' },
    ];
    const err = preflightError(checks)!;
    expect(err).toMatchObject({ code: 'PORT_IN_USE', exitCode: 3, what: '2 preflight checks failed; nothing was created' });
    expect(err.details).toEqual(['✗ 127.0.0.1:3000 (grafana.http) is taken by container "x"\n    fix: stop x', '✗ the engine has 2.0 GiB\n    fix: more']);
    expect(preflightError([checks[0], checks[3]])).toBeUndefined();
  });
});
