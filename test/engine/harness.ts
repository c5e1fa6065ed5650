/**
 * Engine-test sandboxes: each has its own compose project, state dir, free host ports and stand-in images, and runs
 * the real commands (in-process through the CLI's runner, scripts/run.ts, or as a real CLI subprocess).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { runCli } from '../../scripts/run.js';
import type { Sink } from '../../scripts/lib/output.js';
import { unusedPort } from '../support/host-ports.js';
import { buildStack, type ComponentName } from '../../scripts/stack/model.js';
import { portSetting } from '../../scripts/runtimes/preflight.js';
import { imageEnv, standInImages, type StandInBehavior } from '../support/stand-ins.js';
import { nodeStandIn, nodeStandInUnavailable } from '../support/node-stand-in.js';

export const repoRoot = join(import.meta.dirname, '..', '..');
const DEMO_LOCK = join(repoRoot, 'demo-app', 'package-lock.json');
export const docker = new Dockerode({ socketPath: (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '') });

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The JSON document when run with --json. */
  json?: any;
}

/** Runs a command in-process through the CLI's own runner (same dispatch, parsing, help, error printing and exit codes). */
export async function runCommand(argv: string[], env: NodeJS.ProcessEnv, signal = new AbortController().signal): Promise<RunResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink: Sink = { out: (t) => stdout.push(t), err: (t) => stderr.push(t), isTTY: false };
  const code = await runCli(argv, { env, sink, signal });
  const text = stdout.join('');
  let json: unknown;
  if (argv.includes('--json')) json = JSON.parse(text);
  return { code, stdout: text, stderr: stderr.join(''), json };
}

/** Runs the real CLI (scripts/cli.ts through tsx) as a child process in its own process group. */
export function spawnCli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'cli.ts'), ...args], {
    cwd: repoRoot,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<RunResult>((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  return { child, done, output: () => stdout + stderr };
}

/** Host ports for sandboxes: see test/support/host-ports.ts. */
const sandboxPort = unusedPort;

/**
 * The Node stand-in under a tag of the stand-in repository, which nothing prunes: nodeStandIn removes every other tag
 * of its own repository, and a concurrent test building another lockfile's stand-in would take ours away.
 */
function gatewayImage(dockerHost?: string): string {
  const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
  for (let attempt = 0; ; attempt++) {
    const ref = nodeStandIn(DEMO_LOCK, dockerHost);
    const ours = `mop-standin:gateway-${ref.slice(ref.indexOf(':') + 1)}`;
    try {
      execFileSync('docker', ['tag', ref, ours], { env, stdio: 'ignore' });
      return ours;
    } catch (e) {
      if (attempt >= 2) throw e;
    }
  }
}

export interface Sandbox {
  project: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  hostPorts: Record<string, number>;
  images: Record<ComponentName, string>;
  /** The engine the sandbox runs on (the shared dockerd, or a test's own engine). */
  docker: Dockerode;
  run(...argv: string[]): Promise<RunResult>;
  containers(all?: boolean): Promise<Dockerode.ContainerInfo[]>;
  volumes(): Promise<string[]>;
  networks(): Promise<string[]>;
  /** Removes everything with the project label and the state dir (afterAll, even after failures). */
  cleanup(): Promise<void>;
}

const sharedDocker = docker;
const label = (project: string) => ({ label: [`com.docker.compose.project=${project}`] });

export async function createSandbox(
  name: string,
  behaviours: Partial<Record<ComponentName, StandInBehavior>> = {},
  extraEnv: NodeJS.ProcessEnv = {},
  /** Another engine than the shared one (a test's private dockerd): its DOCKER_HOST and a client for it. */
  engine: { host: string; docker: Dockerode } | undefined = undefined,
): Promise<Sandbox> {
  const project = `mopt-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const stateDir = mkdtempSync(join(tmpdir(), `${project}-`));
  const images = standInImages(behaviours, undefined, engine?.host);
  // The real gateway (on a stand-in of the Node image) forwards each request to the backend stand-in behind it, so a
  // backend that is slow, never ready or gone looks so through its published port, as it would for real. A machine
  // without the Node stand-in gets the busybox one, which answers every readiness path itself.
  if (!nodeStandInUnavailable(DEMO_LOCK)) images.gateway = gatewayImage(engine?.host);
  const docker = engine?.docker ?? sharedDocker;
  const stack = buildStack({ demo: true });
  const hostPorts: Record<string, number> = {};
  const portEnv: Record<string, string> = {};
  for (const p of stack.published) {
    const port = await sandboxPort();
    hostPorts[`${p.component}.${p.name}`] = port;
    portEnv[portSetting(p.component, p.name)] = String(port);
  }
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MOP_')));
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    CI: '1',
    MOP_PROJECT: project,
    MOP_STATE_DIR: join(stateDir, 'state'),
    XDG_CONFIG_HOME: join(stateDir, 'config'),
    ...imageEnv(images),
    ...portEnv,
    ...(engine ? { DOCKER_HOST: engine.host } : {}),
    ...extraEnv,
  };
  const sandbox: Sandbox = {
    project,
    env,
    stateDir: env.MOP_STATE_DIR!,
    hostPorts,
    images,
    docker,
    run: (...argv) => runCommand(argv, env),
    containers: (all = true) => docker.listContainers({ all, filters: label(project) }),
    volumes: async () => ((await docker.listVolumes({ filters: label(project) })).Volumes ?? []).map((v) => v.Name),
    networks: async () => (await docker.listNetworks({ filters: label(project) })).map((n) => n.Name),
    async cleanup() {
      for (const c of await docker.listContainers({ all: true, filters: label(project) })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      for (const n of await docker.listNetworks({ filters: label(project) })) await docker.getNetwork(n.Id).remove().catch(() => undefined);
      for (const v of (await docker.listVolumes({ filters: label(project) })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => undefined);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return sandbox;
}

/** Runs a command in a container and returns its stdout (for reading data files). */
export async function execIn(containerId: string, cmd: string[], engine: Dockerode = docker): Promise<string> {
  const exec = await engine.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => resolve());
  });
  const { demuxLogs } = await import('../../scripts/lib/docker.js');
  return demuxLogs(Buffer.concat(chunks));
}
