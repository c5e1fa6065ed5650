/**
 * The compose runtime's tests share this world: a fake Docker API (../fakes.ts) and a recorded `docker compose`,
 * with every component's container, ports and readiness answers scripted. One test file per stage of
 * scripts/runtimes/compose/.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { RunResult } from '../../../scripts/lib/exec.js';
import { recordingExec } from '../../support/fake-exec.js';
import { createOutput } from '../../../scripts/lib/output.js';
import { createComposeRuntime } from '../../../scripts/runtimes/compose/index.js';
import { buildStack, type ComponentName, type Stack } from '../../../scripts/stack/model.js';
import { captureSink, fakeDocker, type FakeContainer } from '../fakes.js';
import type { EngineInfoRaw, EngineVersionRaw } from '../../../scripts/lib/docker.js';
import type { HostProbe } from '../../../scripts/runtimes/engine-plan.js';

export const credentials = { GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', S3_ACCESS_KEY_ID: 'mopkey', S3_SECRET_ACCESS_KEY: 'sk-secret-2', DEMO_CONTROL_TOKEN: 'tok-secret-3', S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc', S3_TEMPO_SECRET_ACCESS_KEY: 's3-tempo-sec', S3_MIMIR_ACCESS_KEY_ID: 's3-mimir-acc', S3_MIMIR_SECRET_ACCESS_KEY: 's3-mimir-sec', S3_LOKI_ACCESS_KEY_ID: 's3-loki-acc', S3_LOKI_SECRET_ACCESS_KEY: 's3-loki-sec' };
export const project = 'unit';
const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
export const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'mop-unit-'));
  temps.push(d);
  return d;
};

/** Every component running and publishing its ports on 127.0.0.1 (host port = container port + 10000). */
export function containersFor(stack: Stack, override: Partial<Record<ComponentName, Partial<FakeContainer>>> = {}): FakeContainer[] {
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
export function afterFirstLook(fd: ReturnType<typeof fakeDocker>, container: FakeContainer, change: () => void) {
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
export function hostPortOf(stack: Stack, component: ComponentName, containerPort: number): number {
  const p = stack.published.find((x) => x.component === component && x.containerPort === containerPort)!;
  return containerPort + 10000 + stack.components.findIndex((c) => c.name === p.publisher);
}

export function world(opts: {
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

export const composeCalls = (exec: ReturnType<typeof recordingExec>) => exec.calls.filter((c) => c.file === 'docker' && c.args[0] === 'compose').map((c) => c.args.slice(5).join(' '));

/** Host facts for the engine plan: the default socket exists, every cgroup controller is delegated. */
export const localSocket: HostProbe = { socketKind: (p) => (p === '/var/run/docker.sock' ? 'socket' : 'missing'), delegatedControllers: () => ['cpu', 'memory', 'pids'], uid: 1000 };
