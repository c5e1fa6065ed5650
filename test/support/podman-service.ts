/**
 * Podman for the engine tests: Debian's podman (4.3) serving the Docker API on its own socket
 * (`podman system service --time=0 unix:///tmp/<name>.sock`), with a containers.conf given by CONTAINERS_CONF that
 * sets `default_ulimits = []`: without it every container fails with "error setting rlimits for ready process:
 * error setting rlimit type 7: operation not permitted" (rootful Podman raises RLIMIT_NOFILE above this machine's hard
 * limit of 20000; seen here with podman 4.3.1). Podman keeps its own storage (/var/lib/containers) and its own networks (netavark, podman's
 * own bridges and firewall chains), so the shared dockerd is never touched.
 *
 * `podmanUnavailable()` says why Podman cannot run here; `startPodman()` starts one service per test process and
 * `stop()` ends exactly that process.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';

export interface PodmanService {
  /** DOCKER_HOST for it. */
  host: string;
  socket: string;
  docker: Dockerode;
  /** The containers.conf the service runs with (podman-compose and the podman CLI need it too). */
  containersConf: string;
  stop(): Promise<void>;
}

export const CONTAINERS_CONF = '[containers]\n# Podman would raise RLIMIT_NOFILE above the hard limit here; with no default ulimits, containers start.\ndefault_ulimits = []\n';

export function podmanUnavailable(): string | undefined {
  if (process.env.MOP_SKIP_PODMAN_TESTS) return 'MOP_SKIP_PODMAN_TESTS is set';
  if (process.platform !== 'linux') return 'Podman tests need Linux';
  if (process.getuid?.() !== 0) return 'the Podman tests run rootful Podman, which needs root';
  if (spawnSync('sh', ['-c', 'command -v podman']).status !== 0) return 'podman is not installed (apt-get install podman podman-compose)';
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPodman(name = 'mop-podman'): Promise<PodmanService> {
  const dir = mkdtempSync(join(tmpdir(), `${name}-`));
  const socket = join(dir, 'podman.sock');
  const containersConf = join(dir, 'containers.conf');
  writeFileSync(containersConf, CONTAINERS_CONF);
  const log = openSync(join(dir, 'service.log'), 'a');
  const child: ChildProcess = spawn('podman', ['system', 'service', '--time=0', `unix://${socket}`], {
    env: { ...process.env, CONTAINERS_CONF: containersConf },
    stdio: ['ignore', log, log],
  });
  const docker = new Dockerode({ socketPath: socket });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (await docker.ping().then(() => true, () => false)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`podman system service did not start:\n${readFileSync(join(dir, 'service.log'), 'utf8').split('\n').slice(-15).join('\n')}`);
    }
    await sleep(200);
  }
  return {
    host: `unix://${socket}`,
    socket,
    docker,
    containersConf,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
