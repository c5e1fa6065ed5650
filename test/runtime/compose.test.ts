import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { parse } from 'yaml';
import { configDir, packageRoot } from '../../scripts/lib/paths.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';
import { preflightError } from '../../scripts/runtimes/preflight.js';
import type { RunResult } from '../../scripts/lib/exec.js';
import { recordingExec } from '../support/fake-exec.js';
import { createOutput } from '../../scripts/lib/output.js';
import { createComposeRuntime } from '../../scripts/runtimes/compose/index.js';
import { credentialEnv, probeHost, projectName } from '../../scripts/runtimes/compose/context.js';
import { pullFailureGroups } from '../../scripts/runtimes/compose/images.js';
import { statusProbeTimeoutMs } from '../../scripts/runtimes/compose/status.js';
import { buildStack, type ComponentName, type Stack } from '../../scripts/stack/model.js';
import { captureSink, fakeDocker, type FakeContainer } from './fakes.js';
import type { EngineInfoRaw, EngineVersionRaw } from '../../scripts/lib/docker.js';
import type { HostProbe } from '../../scripts/runtimes/engine-plan.js';

const credentials = { GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', S3_ACCESS_KEY_ID: 'mopkey', S3_SECRET_ACCESS_KEY: 'sk-secret-2', DEMO_CONTROL_TOKEN: 'tok-secret-3', S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc', S3_TEMPO_SECRET_ACCESS_KEY: 's3-tempo-sec', S3_MIMIR_ACCESS_KEY_ID: 's3-mimir-acc', S3_MIMIR_SECRET_ACCESS_KEY: 's3-mimir-sec', S3_LOKI_ACCESS_KEY_ID: 's3-loki-acc', S3_LOKI_SECRET_ACCESS_KEY: 's3-loki-sec' };
const project = 'unit';
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mop-unit-'));
  temps.push(d);
  return d;
};

/** Every component running and publishing its ports on 127.0.0.1 (host port = container port + 10000). */
function containersFor(stack: Stack, override: Partial<Record<ComponentName, Partial<FakeContainer>>> = {}): FakeContainer[] {
  return stack.components.map((c, i) => ({
    id: `id-${c.name}`,
    name: `${project}-${c.name}-1`,
    project,
    service: c.name,
    state: c.oneShot ? 'exited' : 'running',
    exitCode: 0,
    // What each container publishes, as the render does: a port the gateway fronts is on the gateway's container.
    ports: stack.published.filter((p) => p.publisher === c.name).map((p) => ({ private: p.containerPort, public: p.containerPort + 10000 + i })),
    ...override[c.name],
  }));
}

/**
 * Changes `container` right after the watcher's first look at it once `compose up` has run (call the returned
 * `composeUp` from the fake `compose up`): the watcher sees the state from before the start exactly once, whatever
 * the machine's speed. (A timer here raced the watcher.)
 */
function afterFirstLook(fd: ReturnType<typeof fakeDocker>, container: FakeContainer, change: () => void) {
  let armed = false;
  let done = false;
  const getContainer = fd.docker.getContainer.bind(fd.docker);
  fd.docker.getContainer = ((id: string) => {
    const handle = getContainer(id);
    if (id !== container.id) return handle;
    return {
      ...handle,
      async inspect() {
        const details = await handle.inspect();
        if (armed && !done) {
          done = true;
          change();
        }
        return details;
      },
    };
  }) as typeof fd.docker.getContainer;
  return { composeUp: () => void (armed = true) };
}

/** The host port containersFor publishes a component's container port on (the publisher's index). */
function hostPortOf(stack: Stack, component: ComponentName, containerPort: number): number {
  const p = stack.published.find((x) => x.component === component && x.containerPort === containerPort)!;
  return containerPort + 10000 + stack.components.findIndex((c) => c.name === p.publisher);
}

function world(opts: {
  stack?: Stack;
  images?: string[];
  apiVersion?: string;
  override?: Partial<Record<ComponentName, Partial<FakeContainer>>>;
  http?: (url: string) => { status?: number; error?: string };
  compose?: Record<string, (args: string[]) => Partial<RunResult>>;
  existing?: FakeContainer[];
  /** Another engine than Debian's dockerd: its `docker info`/`docker version`, endpoint and host facts. */
  engine?: { info?: EngineInfoRaw; version?: EngineVersionRaw; dockerHost: string; hostProbe: HostProbe };
}) {
  const stack = opts.stack ?? buildStack({ demo: false });
  const images = opts.images ?? stack.components.map((c) => c.image);
  const fd = fakeDocker({ images, info: opts.engine?.info, version: { ApiVersion: opts.apiVersion ?? '1.41', ...opts.engine?.version }, containers: opts.existing, volumes: [{ name: `${project}_tempo-data`, project }], networks: [{ name: `${project}_default`, project }] });
  const exec = recordingExec(
    {
      docker: (args) => {
        const sub = args[5];
        const handler = opts.compose?.[sub];
        if (handler) return handler(args);
        if (sub === 'up') fd.state.containers.push(...containersFor(stack, opts.override));
        return { exitCode: 0 };
      },
    },
    ['docker'],
  );
  const env = { MOP_PROJECT: project, MOP_STATE_DIR: tempDir(), ...(opts.engine ? { DOCKER_HOST: opts.engine.dockerHost } : {}) };
  const probes: string[] = [];
  const probeTimeouts: (number | undefined)[] = [];
  const runtime = createComposeRuntime({
    exec,
    env,
    hostProbe: opts.engine?.hostProbe,
    docker: fd.docker,
    platform: 'linux',
    intervalMs: 5,
    http: async (url, timeoutMs) => {
      probes.push(url);
      probeTimeouts.push(timeoutMs);
      return opts.http ? opts.http(url) : { status: 200 };
    },
  });
  const cap = captureSink();
  const out = createOutput({ sink: cap.sink });
  return { stack, fd, exec, env, runtime, out, cap, probes, probeTimeouts };
}

const composeCalls = (exec: ReturnType<typeof recordingExec>) => exec.calls.filter((c) => c.file === 'docker' && c.args[0] === 'compose').map((c) => c.args.slice(5).join(' '));

/** Host facts for the engine plan: the default socket exists, every cgroup controller is delegated. */
const localSocket: HostProbe = { socketKind: (p) => (p === '/var/run/docker.sock' ? 'socket' : 'missing'), delegatedControllers: () => ['cpu', 'memory', 'pids'], uid: 1000 };

describe('compose runtime: names and settings', () => {
  it('uses MOP_PROJECT or mop-sandbox, and rejects names compose would refuse', () => {
    expect(projectName({})).toBe('mop-sandbox');
    expect(projectName({ MOP_PROJECT: 'mopt-a_1' })).toBe('mopt-a_1');
    expect(() => projectName({ MOP_PROJECT: 'Bad Name' })).toThrow(UserError);
  });

  it('hands credentials to compose as MOP_* variables, the names the renderer requires', () => {
    expect(credentialEnv(credentials)).toMatchObject({ MOP_GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', MOP_S3_ACCESS_KEY_ID: 'mopkey', MOP_S3_SECRET_ACCESS_KEY: 'sk-secret-2', MOP_DEMO_CONTROL_TOKEN: 'tok-secret-3', MOP_S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc' });
    expect(Object.keys(credentialEnv(credentials))).toHaveLength(Object.keys(credentials).length);
  });

  it('probes published ports on loopback, or on the remote engine host', () => {
    expect(probeHost({ host: 'unix:///var/run/docker.sock', source: 'default' }, '127.0.0.1')).toBe('127.0.0.1');
    expect(probeHost({ host: 'unix:///var/run/docker.sock', source: 'default' }, '0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost({ host: 'tcp://10.1.2.3:2375', source: 'DOCKER_HOST' }, '127.0.0.1')).toBe('10.1.2.3');
  });
});

describe('compose runtime: up', () => {
  it('renders, starts with compose v2 and waits for every component; secrets only in the process env', async () => {
    const w = world({});
    const ready = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(Object.keys(ready).sort()).toEqual(w.stack.components.map((c) => c.name).sort());
    expect(composeCalls(w.exec)).toEqual(['up -d --no-build --pull never --remove-orphans']);
    const up = w.exec.calls.find((c) => c.args[5] === 'up')!;
    expect(up.args.slice(0, 5)).toEqual(['compose', '-p', project, '-f', join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml')]);
    expect(up.env).toMatchObject({ MOP_GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', MOP_S3_SECRET_ACCESS_KEY: 'sk-secret-2' });
    const file = readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8');
    expect(file).toContain('name: unit');
    expect(file).toContain('${MOP_GRAFANA_ADMIN_PASSWORD');
    expect(file).not.toContain('pw-secret-1');
    expect(file).not.toContain('start_interval');
    // Readiness is probed on the published host port, at the model's path.
    expect(w.probes).toContain(`http://127.0.0.1:${hostPortOf(w.stack, 'tempo', 3200)}/ready`);
    const text = w.cap.text();
    expect(text).toMatch(/✓ tempo\s+ready in \d+\.\ds/);
    expect(text).toMatch(/✓ buckets\s+created tempo, mimir, loki, loki-ruler in/);
    expect(text).toContain('images: all');
  });

  it('mounts configs and dashboards from copies in the state directory, never from the package folder', async () => {
    const w = world({});
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    const file = join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml');
    const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, { volumes?: { type: string; source: string }[] }> };
    const binds = Object.values(doc.services).flatMap((s) => (s.volumes ?? []).filter((v) => v.type === 'bind').map((v) => v.source));
    const fromFiles = binds.filter((b) => b !== '/var/run/docker.sock');
    expect(fromFiles.length).toBeGreaterThan(5);
    for (const source of fromFiles) {
      // compose resolves a relative source against the compose file's folder.
      const abs = resolve(dirname(file), source);
      expect(relative(packageRoot, abs).startsWith('..'), `${source} is under the package root`).toBe(true);
      expect(relative(join(w.env.MOP_STATE_DIR, 'compose'), abs).startsWith('..'), `${source} is outside the state directory`).toBe(false);
      expect(existsSync(abs), `${abs} was not written`).toBe(true);
    }
    // The copies are the package's files, byte for byte; the credentials stay out of the folder (no .env).
    expect(readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'config/tempo/tempo.yaml'), 'utf8')).toBe(readFileSync(join(configDir, 'tempo/tempo.yaml'), 'utf8'));
    expect(existsSync(join(w.env.MOP_STATE_DIR, 'compose', '.env'))).toBe(false);
  });

  it('adds healthcheck.start_interval on Engine 25+ (API 1.44)', async () => {
    const w = world({ apiVersion: '1.44' });
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8')).toContain('start_interval: 1s');
  });

  it('pulls only missing images and builds locally built ones', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(composeCalls(w.exec)).toEqual(['pull --quiet grafana', 'build demo', 'up -d --no-build --pull never --remove-orphans']);
    expect(w.cap.text()).toMatch(/✓ pull grafana\/grafana:13\.2\.0/);
  });

  it('builds the demo beside the pulls, not after them', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    // The pull answers only once the build has begun: run one after the other, they never meet.
    let buildBegan!: () => void;
    const began = new Promise<void>((r) => (buildBegan = r));
    const run = w.exec.run.bind(w.exec);
    w.exec.run = async (file, args, opts) => {
      if (args[5] === 'build') buildBegan();
      if (args[5] === 'pull') {
        // The bound only turns a hang (a build that waits for the pull) into a message before the test's timeout.
        const met = await Promise.race([began.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref())]);
        if (!met) return { exitCode: 1, stdout: '', stderr: 'the pull waited 20 s for a build that never began' };
      }
      return run(file, args, opts);
    };
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    // (The fake records a call when it answers, so the waiting pull comes after the build.)
    expect(composeCalls(w.exec)).toEqual(['build demo', 'pull --quiet grafana', 'up -d --no-build --pull never --remove-orphans']);
  });

  it('a pull that fails for good stops the build still running, and up names the pull (exit 3)', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    let buildSignal: AbortSignal | undefined;
    const run = w.exec.run.bind(w.exec);
    w.exec.run = async (file, args, opts) => {
      if (args[5] === 'build') {
        buildSignal = opts?.signal;
        // A long build: it ends only when stopped.
        await new Promise<void>((r) => (opts?.signal?.aborted ? r() : opts?.signal?.addEventListener('abort', () => r(), { once: true })));
        return { exitCode: 130, stdout: '', stderr: 'build cancelled' };
      }
      if (args[5] === 'pull') return { exitCode: 1, stdout: '', stderr: 'Error response from daemon: manifest unknown' };
      return run(file, args, opts);
    };
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.code).toBe('IMAGE_PULL_FAILED');
    expect(buildSignal?.aborted).toBe(true);
    expect(w.cap.text()).toMatch(/build .*stopped: a pull failed/);
  });

  it('on Podman: builds with the classic builder (DOCKER_BUILDKIT=0), mounts Podman\'s socket, labels off; on dockerd: BuildKit as configured', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'demo').map((c) => c.image);
    const sock = '/run/user/1000/podman/podman.sock';
    const podman = world({
      stack,
      images: present,
      engine: {
        info: { Rootless: true, SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'], CgroupVersion: '2' },
        version: { Components: [{ Name: 'Podman Engine', Version: '4.9.3' }] },
        dockerHost: `unix://${sock}`,
        hostProbe: { socketKind: (p) => (p === sock ? 'socket' : 'missing'), delegatedControllers: () => ['memory', 'pids'], uid: 1000 },
      },
    });
    await podman.runtime.up(podman.stack, { credentials, signal: new AbortController().signal, out: podman.out });
    const build = podman.exec.calls.find((c) => c.args.includes('build'))!;
    expect(build.env?.DOCKER_BUILDKIT).toBe('0');
    const file = readFileSync(join(podman.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8');
    expect(file).toContain(`source: ${sock}`);
    expect(file).toContain('label=disable');
    expect(file).not.toMatch(/cpus:/);
    const checks = await podman.runtime.preflight(podman.stack);
    expect(checks.find((c) => c.id === 'cpu-limits')).toMatchObject({ ok: false, severity: 'warn' });
    expect(checks.find((c) => c.id === 'docker-socket')).toMatchObject({
      ok: true,
      detail: `${sock} (the engine's own socket); Alloy reads it as root: the socket's group on Podman cannot be given to a container user`,
    });

    const dockerd = world({ stack, images: present });
    await dockerd.runtime.up(dockerd.stack, { credentials, signal: new AbortController().signal, out: dockerd.out });
    expect(dockerd.exec.calls.find((c) => c.args.includes('build'))!.env?.DOCKER_BUILDKIT).toBeUndefined();
    expect(readFileSync(join(dockerd.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8')).not.toContain('label=disable');
  });

  it('stops at an image that cannot be pulled, without retrying a definitive error (exit 3)', async () => {
    const w = world({ images: [], compose: { pull: () => ({ exitCode: 1, stderr: 'Error response from daemon: manifest unknown' }) } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'IMAGE_PULL_FAILED', exitCode: ExitCode.preflight });
    expect(err.next).toMatch(/MOP_REGISTRY_MIRROR/);
    expect(composeCalls(w.exec).filter((c) => c.startsWith('pull'))).toHaveLength(new Set(w.stack.components.map((c) => c.image)).size);
    expect(composeCalls(w.exec)).not.toContain('up -d --no-build --pull never --remove-orphans');
    // Every image failed for the same reason: said once, with the list of images.
    const images = [...new Set(w.stack.components.filter((c) => !c.build).map((c) => c.image))];
    expect(err.why).toBe('Error response from daemon: manifest unknown');
    expect(err.details).toEqual([`Error response from daemon: manifest unknown: ${images.join(', ')}`]);
    expect(w.cap.text().split('manifest unknown').length - 1).toBe(0);
  });

  it('groups pull failures by cause, with the image names taken out of the message', () => {
    const noHost = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host';
    const groups = pullFailureGroups([
      { image: 'grafana/loki:3.6.0', stderr: noHost },
      { image: 'grafana/tempo:2.9.0', stderr: `some progress\n${noHost}` },
      { image: 'grafana/mimir:3.0.0', stderr: 'Error response from daemon: pull access denied for grafana/mimir, repository does not exist' },
      { image: 'grafana/alloy:v1.11.0', stderr: 'Error response from daemon: pull access denied for grafana/alloy, repository does not exist' },
    ]);
    expect(groups).toEqual([
      { cause: noHost, images: ['grafana/loki:3.6.0', 'grafana/tempo:2.9.0'] },
      { cause: 'Error response from daemon: pull access denied for <image>, repository does not exist', images: ['grafana/mimir:3.0.0', 'grafana/alloy:v1.11.0'] },
    ]);
  });

  it('names a component that exits, with its last log lines and the next step (exit 4)', async () => {
    const w = world({ override: { tempo: { state: 'exited', exitCode: 1, logs: ['level=info msg=starting', 'level=error msg="bucket does not exist"'] } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'COMPONENT_FAILED', exitCode: ExitCode.notReady, what: 'tempo exited with code 1' });
    expect(err.details).toEqual(['last 2 log lines of tempo (unit-tempo-1):', '  | level=info msg=starting', '  | level=error msg="bucket does not exist"']);
    expect(err.next).toMatch(/mop-sandbox logs tempo/);
    expect(w.cap.text()).toMatch(/✗ tempo\s+exited with code 1/);
  });

  it('fails a one-shot job that exits non-zero', async () => {
    const w = world({ override: { buckets: { state: 'exited', exitCode: 1, logs: ['mc: <ERROR> Unable to make bucket'] } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err.what).toBe('buckets exited with code 1 before finishing its job');
  });

  it('up on a partly broken stack waits on the restarted container, not the exit from before (stand-in fake)', async () => {
    const stack = buildStack({ demo: false });
    const existing = containersFor(stack, { tempo: { state: 'exited', exitCode: 137, finishedAt: '2026-11-29T03:00:00Z', restartCount: 3 } });
    const tempo = existing.find((c) => c.service === 'tempo')!;
    // compose starts the exited container a moment after it was asked to; the watcher looks once before that.
    let start = () => {};
    const w = world({ stack, existing, compose: { up: () => (start(), { exitCode: 0 }) } });
    start = afterFirstLook(w.fd, tempo, () => Object.assign(tempo, { state: 'running' })).composeUp;
    const ready = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(Object.keys(ready)).toContain('tempo');
    expect(w.cap.text()).toContain('exited before this `up` (code 137); starting it again');
  });

  it('a container that exits again during up fails it; an out-of-memory exit names the limit', async () => {
    const stack = buildStack({ demo: false });
    const existing = containersFor(stack, { tempo: { state: 'exited', exitCode: 137, finishedAt: '2026-11-29T03:00:00Z' } });
    const tempo = existing.find((c) => c.service === 'tempo')!;
    let start = () => {};
    const w = world({ stack, existing, compose: { up: () => (start(), { exitCode: 0 }) } });
    start = afterFirstLook(w.fd, tempo, () => Object.assign(tempo, { finishedAt: '2026-11-29T03:05:00Z', oomKilled: true })).composeUp;
    const err = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_FAILED', what: 'tempo was killed for running out of memory (its limit is 1Gi)' });
  });

  it('treats a crash loop as a failure instead of waiting', async () => {
    const w = world({ override: { loki: { state: 'restarting', exitCode: 2, restartCount: 2 } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err.what).toBe('loki keeps crashing (restarted 2 times, last exit code 2)');
  });

  it('names a component that is not ready in time', async () => {
    const stack = buildStack({ demo: false });
    const w = world({ stack, http: (url) => (url.endsWith(`:${hostPortOf(stack, 'tempo', 3200)}/ready`) ? { status: 503 } : { status: 200 }) });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out, readyTimeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_TIMEOUT', exitCode: ExitCode.notReady, what: 'tempo not ready after 0.2s' });
    expect(err.why).toBe('tempo: starting (HTTP 503 from /ready)');
    expect(err.next).toMatch(/--timeout/);
  });

  it('turns a port taken between preflight and start into PORT_IN_USE (exit 3)', async () => {
    const w = world({
      compose: { up: () => ({ exitCode: 1, stderr: 'Error response from daemon: driver failed programming external connectivity on endpoint unit-grafana-1: Bind for 127.0.0.1:3000 failed: port is already allocated' }) },
    });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'PORT_IN_USE', exitCode: ExitCode.preflight, what: 'host port 3000 was taken while the stack was starting' });
  });

  it('on Ctrl-C stops waiting, removes the containers it started, keeps the volumes (exit 130)', async () => {
    const ac = new AbortController();
    // Ctrl-C arrives while up waits for readiness: on the first probe, after compose up started the containers.
    const w = world({
      http: () => {
        ac.abort(new Error('interrupted'));
        return { error: 'connection refused' };
      },
    });
    const err = await w.runtime.up(w.stack, { credentials, signal: ac.signal, out: w.out }).catch((e) => e);
    expect(composeCalls(w.exec)).toEqual(['up -d --no-build --pull never --remove-orphans']);
    expect(w.fd.calls).toContain(`remove ${project}-tempo-1`);
    expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: ExitCode.interrupted });
    expect(w.fd.state.containers).toEqual([]);
    expect(w.fd.state.networks).toEqual([]);
    expect(w.fd.state.volumes).toHaveLength(1);
    expect(w.cap.text()).toMatch(/removed \d+ containers/);
  });
});

describe('compose runtime: preflight', () => {
  /** Every published port held by a container: the project's own, except `squat`, which a stranger holds (no host socket is touched). */
  function engineHolding(stack: Stack, squat: string) {
    const containers: FakeContainer[] = stack.published.map((p, i) => {
      const key = `${p.component}.${p.name}`;
      const own = key !== squat;
      return { id: `c${i}`, name: own ? `${project}-${p.component}-${i}` : 'squatter', project: own ? project : 'other', service: p.component, state: 'running', ports: [{ private: p.containerPort, public: p.hostPort, ip: p.hostIp }] };
    });
    return fakeDocker({ containers, info: { OperatingSystem: 'Debian GNU/Linux 12', MemTotal: 16 * 1024 ** 3 }, version: { Version: '28.1.1', ApiVersion: '1.49' } });
  }

  it('runs every check (Docker, compose, config files, each port, memory, loopback isolation, disk) and blames the container holding a port', async () => {
    const stack = buildStack({ demo: false });
    const fd = engineHolding(stack, 'grafana.http');
    const exec = recordingExec({ 'docker compose version': { stdout: '2.26.1\n' } }, ['docker']);
    const rt = createComposeRuntime({ exec, env: { MOP_PROJECT: project, MOP_STATE_DIR: tempDir(), DOCKER_HOST: 'unix:///var/run/docker.sock' }, docker: fd.docker, platform: 'linux', freeBytes: async () => 500 * 1024 ** 3, hostProbe: localSocket });
    const checks = await rt.preflight(stack);
    expect(checks.map((c) => c.id)).toEqual(['docker', 'compose', 'config', 'port:grafana.http', 'memory', 'loopback', 'disk', 'docker-socket']);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['port:grafana.http']).toMatchObject({ ok: false, severity: 'error', detail: expect.stringMatching(/^127\.0\.0\.1:3000 \(grafana\.http\) is taken by .*squatter/) });
    for (const id of ['docker', 'compose', 'config', 'memory', 'loopback', 'disk']) expect(byId[id], id).toMatchObject({ ok: true });
    expect(preflightError(checks)).toMatchObject({ code: 'PORT_IN_USE', exitCode: ExitCode.preflight });
  });

  it('with every port free (held by its own project) reports one passed ports check', async () => {
    const stack = buildStack({ demo: false });
    const fd = engineHolding(stack, '');
    const exec = recordingExec({ 'docker compose version': { stdout: '2.26.1\n' } }, ['docker']);
    const rt = createComposeRuntime({ exec, env: { MOP_PROJECT: project, MOP_STATE_DIR: tempDir(), DOCKER_HOST: 'unix:///var/run/docker.sock' }, docker: fd.docker, platform: 'linux', freeBytes: async () => 500 * 1024 ** 3, hostProbe: localSocket });
    const checks = await rt.preflight(stack);
    expect(checks.map((c) => [c.id, c.ok])).toEqual([
      ['docker', true],
      ['compose', true],
      ['config', true],
      ['ports', true],
      ['memory', true],
      ['loopback', true],
      ['disk', true],
      ['docker-socket', true],
    ]);
  });
});

describe('compose runtime: status, down', () => {
  it("probes Mimir's readiness through the gateway's published port (its only health check), and waits while the gateway is missing", async () => {
    const stack = buildStack({ demo: false });
    const mimirReady = `http://127.0.0.1:${hostPortOf(stack, 'mimir', 8080)}/ready`;
    expect(hostPortOf(stack, 'mimir', 8080)).toBe(8080 + 10000 + stack.components.findIndex((c) => c.name === 'gateway'));
    const w = world({ stack, http: (u) => (u === mimirReady ? { status: 503 } : { status: 200 }) });
    const err = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out, readyTimeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_TIMEOUT', why: 'mimir: starting (HTTP 503 from /ready)' });
    expect(w.probes).toContain(mimirReady);
    // No gateway container: Mimir is not taken for ready (it has no other health check), and status says why.
    const gone = world({ stack, existing: containersFor(stack).filter((c) => c.service !== 'gateway') });
    const by = Object.fromEntries((await gone.runtime.status(stack)).map((s) => [s.name, s]));
    expect(by.mimir).toMatchObject({ health: 'unhealthy', detail: 'its port is published by gateway, which is not running' });
    expect(by.gateway).toMatchObject({ state: 'missing' });
  });

  it('reports state, health and URL per component', async () => {
    const stack = buildStack({ demo: false });
    // containersFor publishes container port p on host port p + 10000 + the component's index.
    const lokiReady = `:${hostPortOf(stack, 'loki', 3100)}/ready`;
    const w = world({
      stack,
      existing: containersFor(stack, { mimir: { state: 'exited', exitCode: 137 }, tempo: { state: 'exited', exitCode: 137, oomKilled: true }, alloy: { state: 'exited', exitCode: 2 } }),
      http: (u) => (u.endsWith(lokiReady) ? { status: 503 } : { status: 200 }),
    });
    const list = await w.runtime.status(stack);
    const by = Object.fromEntries(list.map((s) => [s.name, s]));
    expect(w.probes.filter((u) => u.endsWith(lokiReady))).toHaveLength(1);
    expect(by.buckets).toMatchObject({ state: 'completed', health: 'none' });
    // Exit 137 alone is a SIGKILL; only State.OOMKilled is an out-of-memory kill, told with the limit and the setting.
    expect(by.mimir).toMatchObject({ state: 'exited', exitCode: 137, exit: 'killed' });
    expect(by.mimir.detail).toMatch(/^killed \(SIGKILL, exit code 137\), not for its memory limit/);
    expect(by.tempo).toMatchObject({ state: 'exited', exitCode: 137, exit: 'oom' });
    expect(by.tempo.detail).toBe(
      'killed for running out of memory (its limit is 1Gi); raise its limit: MOP_MEMORY_TEMPO=2Gi (or "memory": {"tempo": "2Gi"} in settings.json), then `mop-sandbox up`',
    );
    expect(by.alloy).toMatchObject({ state: 'exited', exitCode: 2, exit: 'crashed', detail: 'crashed (exit code 2); see `mop-sandbox logs alloy`, then `mop-sandbox up`' });
    expect(by.grafana).toMatchObject({ state: 'running', health: 'healthy', url: `http://127.0.0.1:${3000 + 10000 + stack.components.findIndex((c) => c.name === 'grafana')}/` });
    expect(by.loki).toEqual({ name: 'loki', state: 'running', health: 'unhealthy', url: by.loki.url, detail: 'no restarts: /ready answers HTTP 503' });
    expect(by.grafana.detail).toBeUndefined();
    // One look, so a slow answer (a busy laptop) is given longer than a tick of `up`'s wait.
    expect(new Set(w.probeTimeouts)).toEqual(new Set([statusProbeTimeoutMs]));
    expect(await world({}).runtime.status(stack)).toEqual([]);
  });

  it('a backend whose disk filled says so in status (from its log tail), not just "unhealthy"', async () => {
    const stack = buildStack({ demo: false });
    const w = world({
      stack,
      existing: containersFor(stack, { loki: { state: 'exited', exitCode: 1, logs: ['level=info msg="starting"', 'level=error msg="flush chunk: write /loki/chunks/abc: no space left on device"'] } }),
    });
    const loki = (await w.runtime.status(stack)).find((c) => c.name === 'loki')!;
    expect(loki.detail).toContain('its disk is full ("level=error msg="flush chunk: write /loki/chunks/abc: no space left on device"")');
    expect(loki.detail).toContain('free space on that disk');
  });

  it('down removes containers and networks by project label and keeps volumes; purge removes them', async () => {
    const stack = buildStack({ demo: false });
    const w = world({ stack, existing: containersFor(stack) });
    expect(await w.runtime.down({ purge: false })).toEqual({ containers: stack.components.length, networks: 1, volumes: 0, volumesKept: 1 });
    expect(w.fd.calls).toContain('stop unit-tempo-1');
    expect(w.fd.state.volumes).toHaveLength(1);
    expect(await w.runtime.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 1, volumesKept: 0 });
    expect(w.fd.state.volumes).toEqual([]);
    // Nothing there: still fine.
    expect(await w.runtime.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(composeCalls(w.exec)).toEqual([]);
  });

  it('down with Docker unreachable says so (exit 3)', async () => {
    const fd = fakeDocker({ unreachable: Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }) });
    const rt = createComposeRuntime({ exec: recordingExec(), env: { MOP_PROJECT: 'x', MOP_STATE_DIR: tempDir() }, docker: fd.docker, platform: 'linux' });
    await expect(rt.down({ purge: true })).rejects.toMatchObject({ code: 'DOCKER_UNREACHABLE', exitCode: ExitCode.preflight });
  });
});
