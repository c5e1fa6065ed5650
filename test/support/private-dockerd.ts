/**
 * A private Docker daemon for a test that must restart the engine: its own --data-root, --exec-root (and so its own
 * containerd), --pidfile and unix socket under a temp dir, and its OWN NETWORK NAMESPACE (unshare --net).
 *
 * The namespace is what keeps the shared daemon safe: dockerd deletes the host's `docker0` when started with
 * `--bridge=none`, and also on a restart with `--default-address-pool` (moby daemon_unix.go, "Clear stale bridge
 * network" -> removeDefaultBridgeInterface). Inside its own namespace it has its own docker0, iptables and routes, so
 * nothing it does reaches the shared daemon's networking. The cost: its published ports live in that namespace, so
 * commands that probe them run there too (`cli`, through nsenter); the Docker API is a unix socket and works from here.
 *
 * Needs root, dockerd, unshare and nsenter (util-linux), and busybox (for `ip` inside the namespace, already needed by
 * the stand-ins). `privateDockerdUnavailable()` says why not otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';

export interface PrivateDockerd {
  /** DOCKER_HOST for it: unix://<dir>/docker.sock */
  host: string;
  docker: Dockerode;
  dir: string;
  /** Runs the real CLI in the daemon's network namespace (where its published ports are). */
  cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Stops the daemon (SIGTERM, as a shutdown or reboot does: containers stop, their restart policy stays) and starts it again. */
  restart(): Promise<void>;
  /** Removes every container, then stops the daemon and deletes its directory. */
  destroy(): Promise<void>;
  log(): string;
}

export function privateDockerdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'a private dockerd needs Linux';
  if (process.getuid?.() !== 0) return 'starting a private dockerd needs root';
  for (const tool of ['dockerd', 'unshare', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool} on PATH`;
  }
  if (!existsSync('/bin/busybox')) return '/bin/busybox is missing';
  const probe = spawnSync('unshare', ['--net', 'true']);
  if (probe.status !== 0) return `cannot make a network namespace (unshare --net: ${String(probe.stderr).trim()})`;
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const repoRoot = join(import.meta.dirname, '..', '..');

export async function startPrivateDockerd(name = 'mop-privd'): Promise<PrivateDockerd> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'dockerd.pid');
  const logFile = join(dir, 'dockerd.log');
  const dockerd = ['dockerd', '--data-root', join(dir, 'root'), '--exec-root', join(dir, 'exec'), '--pidfile', pidfile, '-H', `unix://${socket}`, '--cgroup-parent', `/${name}`];
  const docker = new Dockerode({ socketPath: socket });
  let child: ChildProcess | undefined;

  async function start() {
    const log = openSync(logFile, 'a');
    // unshare without --fork: the shell, then dockerd (exec), keep this pid and live in the new namespace.
    child = spawn('unshare', ['--net', 'sh', '-c', `/bin/busybox ip link set lo up && exec "$@"`, 'sh', ...dockerd], { stdio: ['ignore', log, log], detached: true });
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (await docker.ping().then(() => true, () => false)) return;
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the private dockerd did not start:\n${readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n')}`);
      }
      await sleep(200);
    }
  }

  async function stop() {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 45_000);
    await exited;
    clearTimeout(timer);
    // The pidfile goes with a clean exit; the next start refuses to run while it names a live process.
    for (let i = 0; i < 50 && existsSync(pidfile); i++) await sleep(100);
  }

  try {
    await start();
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host: `unix://${socket}`,
    docker,
    dir,
    cli(args, env) {
      const c = spawn('nsenter', ['-t', String(child!.pid), '-n', process.execPath, '--import', 'tsx', join(repoRoot, 'scripts', 'cli.ts'), ...args], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (d) => (stdout += d));
      c.stderr.on('data', (d) => (stderr += d));
      return new Promise((resolve) => c.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
    },
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      if (child && child.exitCode === null) {
        for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
      await stop();
      // Only delete when nothing is mounted below it any more (a stuck mount would make rm fail half-way).
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
      if (!mounts.length) rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
