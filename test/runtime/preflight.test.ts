import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { recordingExec } from '../support/fake-exec.js';
import { checkCompose, checkConfigFiles, checkDocker, checkMemory, checkPorts, memoryNeeds, parseBytes, portSetting, preflightError } from '../../scripts/runtimes/preflight.js';
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

  it('recognises the podman-docker shim on a Podman without `compose`', async () => {
    const stderr = "Error: unrecognized command `podman compose`\nTry 'podman --help' for more information\n";
    const c = await checkCompose({ exec: recordingExec({ 'docker compose': { exitCode: 125, stderr } }, ['docker']), env: {} });
    expect(c.detail).toContain('`docker` is Podman');
    expect(c.fix).toContain('DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock');
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
    expect(requests).toBe(parseBytes('2208Mi'));
    expect(checkMemory(stack, { memTotal: 16 * 1024 ** 3, product: 'dockerd' })).toMatchObject({ ok: true });
    const low = checkMemory(stack, { memTotal: 2 * 1024 ** 3, product: 'Docker Desktop' });
    expect(low).toMatchObject({ ok: false, severity: 'error', detail: 'the engine has 2.0 GiB, the default profile requests 2.2 GiB' });
    expect(low.fix).toMatch(/Settings → Resources/);
    const between = checkMemory(stack, { memTotal: (requests + limits) / 2, product: 'Colima' });
    expect(between).toMatchObject({ ok: false, severity: 'warn' });
    expect(between.fix).toMatch(/colima start --memory/);
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
