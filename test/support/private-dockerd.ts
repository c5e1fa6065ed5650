/**
 * A private Docker daemon for a test that must restart the engine: its own --data-root, --exec-root (and so its own
 * containerd), --pidfile and unix socket under a temp dir. It must not disturb the shared daemon other tests use:
 * - its own bridge (`--bridge=<ours>`, made here). Never `--bridge=none`: dockerd then DELETES the host's docker0,
 *   the shared daemon's default bridge (moby daemon_unix.go, removeDefaultBridgeInterface).
 * - `--iptables=false`: it writes no rules into the chains the shared daemon owns. Because the shared daemon sets the
 *   FORWARD policy to DROP (and bridged traffic passes iptables), one ACCEPT rule for our own address pool lets our
 *   containers reach each other; it is removed with the daemon.
 * - networks from a random 10.2xx.0.0/16 pool, away from Docker's defaults (172.17-31.x, 192.168.x).
 * Needs root, dockerd, ip and iptables; `privateDockerdUnavailable()` says why not otherwise.
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
  /** Stops the daemon (SIGTERM, as a shutdown or reboot does: containers stop, their restart policy stays) and starts it again. */
  restart(): Promise<void>;
  /** Removes every container, then stops the daemon and deletes its directory. */
  destroy(): Promise<void>;
  log(): string;
}

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
}

export function privateDockerdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'a private dockerd needs Linux';
  if (process.getuid?.() !== 0) return 'starting a private dockerd needs root';
  for (const tool of ['dockerd', 'ip', 'iptables']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `no ${tool} on PATH`;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPrivateDockerd(name = 'mop-privd'): Promise<PrivateDockerd> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const socket = join(dir, 'docker.sock');
  const pidfile = join(dir, 'dockerd.pid');
  const logFile = join(dir, 'dockerd.log');
  // Random per run, so two runs at once (a developer and CI) get separate bridges and subnets.
  const octet = 200 + Math.floor(Math.random() * 50);
  const bridge = `mopbr${Math.random().toString(16).slice(2, 8)}`;
  const pool = `10.${octet}.0.0/16`;
  const forward = ['FORWARD', '-s', pool, '-d', pool, '-j', 'ACCEPT'];
  run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  run('ip', ['addr', 'add', `10.${octet}.255.1/24`, 'dev', bridge]);
  run('ip', ['link', 'set', bridge, 'up']);
  run('iptables', ['-I', ...forward]);
  const args = [
    '--data-root', join(dir, 'root'),
    '--exec-root', join(dir, 'exec'),
    '--pidfile', pidfile,
    '-H', `unix://${socket}`,
    '--bridge', bridge,
    '--iptables=false',
    '--ip-masq=false',
    '--default-address-pool', `base=10.${octet}.0.0/17,size=24`,
    '--cgroup-parent', `/${name}`,
  ];
  const docker = new Dockerode({ socketPath: socket });
  let child: ChildProcess | undefined;

  async function start() {
    const log = openSync(logFile, 'a');
    child = spawn('dockerd', args, { stdio: ['ignore', log, log], detached: true });
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

  const unplumb = () => {
    spawnSync('iptables', ['-D', ...forward]);
    spawnSync('ip', ['link', 'del', bridge]);
  };
  try {
    await start();
  } catch (e) {
    await stop();
    unplumb();
    throw e;
  }
  return {
    host: `unix://${socket}`,
    docker,
    dir,
    async restart() {
      await stop();
      await start();
    },
    async destroy() {
      if (child && child.exitCode === null) {
        for (const c of await docker.listContainers({ all: true }).catch(() => [])) await docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined);
      }
      await stop();
      unplumb();
      // Only delete when nothing is mounted below it any more (a stuck mount would make rm fail half-way).
      const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
      if (!mounts.length) rmSync(dir, { recursive: true, force: true });
    },
    log: () => readFileSync(logFile, 'utf8'),
  };
}
