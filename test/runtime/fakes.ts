/** A fake Docker client for unit tests: containers, volumes and networks held in memory, calls recorded. */
import type { ContainerDetails, ContainerSummary, DockerApi, EngineInfoRaw, EngineVersionRaw } from '../../scripts/lib/docker.js';
import { stackLabel } from '../../scripts/stack/model.js';

/** The labels compose gives an object of ours (the rendered file sets the stack label), or only the project label for another project's. */
const labelsOf = (o: { project: string; foreign?: boolean }): Record<string, string> =>
  o.foreign ? { 'com.docker.compose.project': o.project } : { 'com.docker.compose.project': o.project, [stackLabel]: o.project };

export interface FakeContainer {
  id: string;
  name: string;
  project: string;
  service: string;
  state: 'created' | 'running' | 'exited' | 'restarting';
  exitCode?: number;
  restartCount?: number;
  oomKilled?: boolean;
  /** State.FinishedAt (the last exit). */
  finishedAt?: string;
  /** Docker network address. */
  ip?: string;
  health?: 'starting' | 'healthy' | 'unhealthy';
  ports?: { private: number; public: number; ip?: string }[];
  logs?: string[];
  /** Another compose project with the same name (no mop-sandbox labels). */
  foreign?: boolean;
}

/** Docker's framed log format (stdout frames). */
export function framed(lines: string[]): Buffer {
  return Buffer.concat(
    lines.map((l) => {
      const payload = Buffer.from(l + '\n');
      const head = Buffer.alloc(8);
      head[0] = 1;
      head.writeUInt32BE(payload.length, 4);
      return Buffer.concat([head, payload]);
    }),
  );
}

export function fakeDocker(init: {
  containers?: FakeContainer[];
  volumes?: { name: string; project: string; foreign?: boolean }[];
  networks?: { name: string; project: string; foreign?: boolean }[];
  images?: string[];
  info?: EngineInfoRaw;
  version?: EngineVersionRaw;
  unreachable?: NodeJS.ErrnoException;
} = {}) {
  const calls: string[] = [];
  const state = {
    containers: [...(init.containers ?? [])],
    volumes: [...(init.volumes ?? [])],
    networks: [...(init.networks ?? [])],
    images: new Set(init.images ?? []),
  };
  const fail = () => {
    if (init.unreachable) throw init.unreachable;
  };
  const byLabel = (filters: unknown, project: string) => {
    const labels = (filters as { label?: string[] } | undefined)?.label ?? [];
    return labels.every((l) => l === `com.docker.compose.project=${project}`);
  };
  const summary = (c: FakeContainer): ContainerSummary => ({
    Id: c.id,
    Names: [`/${c.name}`],
    Image: 'img',
    State: c.state,
    Status:
      c.state === 'running'
        ? `Up 2 seconds${c.health ? ` (${c.health === 'starting' ? 'health: starting' : c.health})` : ''}`
        : c.state === 'exited'
          ? `Exited (${c.exitCode ?? 0}) 1 second ago`
          : c.state === 'restarting'
            ? `Restarting (${c.exitCode ?? 1}) 1 second ago`
            : 'Created',
    Labels: { ...labelsOf(c), 'com.docker.compose.service': c.service },
    Ports: (c.ports ?? []).map((p) => ({ IP: p.ip ?? '127.0.0.1', PrivatePort: p.private, PublicPort: p.public, Type: 'tcp' })),
    NetworkSettings: { Networks: c.ip ? { [`${c.project}_default`]: { IPAddress: c.ip } } : {} },
  });
  const details = (c: FakeContainer): ContainerDetails => ({
    Id: c.id,
    Name: `/${c.name}`,
    Config: { Tty: false, Labels: {} },
    State: {
      Status: c.state,
      Running: c.state === 'running',
      Restarting: c.state === 'restarting',
      ExitCode: c.state === 'running' ? 0 : (c.exitCode ?? 0),
      StartedAt: '',
      FinishedAt: c.finishedAt ?? '',
      OOMKilled: c.oomKilled ?? false,
      Health: c.health ? { Status: c.health } : undefined,
    },
    RestartCount: c.restartCount ?? 0,
    NetworkSettings: { Ports: {} },
  });
  const docker: DockerApi = {
    async ping() {
      fail();
      return 'OK';
    },
    async info() {
      fail();
      return { Name: 'host', OperatingSystem: 'Debian GNU/Linux 12 (bookworm)', MemTotal: 16 * 1024 ** 3, NCPU: 4, ServerVersion: '20.10.24', ...init.info };
    },
    async version() {
      fail();
      return { Version: '20.10.24', ApiVersion: '1.41', Components: [{ Name: 'Engine', Version: '20.10.24' }], ...init.version };
    },
    async listContainers(opts) {
      fail();
      calls.push('listContainers');
      const project = /=(.*)$/.exec(((opts?.filters as { label?: string[] })?.label ?? [''])[0] ?? '')?.[1];
      return state.containers
        .filter((c) => (project ? byLabel(opts?.filters, c.project) : true))
        .filter((c) => opts?.all || c.state === 'running')
        .map(summary);
    },
    getContainer(id) {
      const c = () => {
        const found = state.containers.find((x) => x.id === id);
        if (!found) throw Object.assign(new Error('no such container'), { statusCode: 404 });
        return found;
      };
      return {
        async inspect() {
          return details(c());
        },
        async logs() {
          return framed(c().logs ?? []);
        },
        async stop() {
          calls.push(`stop ${c().name}`);
          c().state = 'exited';
          return undefined;
        },
        async remove() {
          calls.push(`remove ${c().name}`);
          state.containers = state.containers.filter((x) => x.id !== id);
          return undefined;
        },
      };
    },
    async listVolumes(opts) {
      fail();
      return { Volumes: state.volumes.filter((v) => byLabel(opts?.filters, v.project)).map((v) => ({ Name: v.name, Labels: labelsOf(v) })) };
    },
    getVolume(name) {
      return {
        async remove() {
          calls.push(`remove volume ${name}`);
          state.volumes = state.volumes.filter((v) => v.name !== name);
        },
      };
    },
    async listNetworks(opts) {
      fail();
      return state.networks.filter((n) => byLabel(opts?.filters, n.project)).map((n) => ({ Id: n.name, Name: n.name, Labels: labelsOf(n) }));
    },
    getNetwork(id) {
      return {
        async remove() {
          calls.push(`remove network ${id}`);
          state.networks = state.networks.filter((n) => n.name !== id);
        },
      };
    },
    getImage(name) {
      return {
        async inspect() {
          if (!state.images.has(name)) throw Object.assign(new Error('no such image'), { statusCode: 404 });
          return {};
        },
      };
    },
  };
  return { docker, state, calls };
}

/** A silent Output sink that records what was printed. */
export function captureSink(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  return { sink: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTTY }, out, err, text: () => out.join('') + err.join('') };
}
