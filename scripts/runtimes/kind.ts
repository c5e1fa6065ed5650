/**
 * The kind runtime: the stack in the profile's namespace of a local kind cluster (default name `mop-sandbox`,
 * `MOP_KIND_CLUSTER` overrides). Every program runs through Exec; every failure is a UserError saying what, why
 * and what next.
 *
 * Files, under <state dir>/kind/<cluster>/ (mode 0700): `kubeconfig` (our own: the user's ~/.kube/config and
 * current context are never touched; every kubectl call names `--kubeconfig` and `--context kind-<cluster>`),
 * `kind-cluster.yaml` and `manifests/` (the last render), `cluster.json` (the port mappings the cluster was created
 * with: kind fixes them at creation, so a later `up` that needs others must stop and say so).
 *
 *   up:    kind get clusters → [kind create cluster --config --kubeconfig --wait 60s | compare port mappings,
 *          kind export kubeconfig] → docker build + kind load docker-image (demo) → kubectl delete job (re-run the
 *          bucket job) → kubectl apply --server-side -f manifests/ → poll `kubectl get <workloads>,pods -o json`
 *          until every workload has rolled out, failing fast on crash loops and unpullable images.
 *   down:  delete workloads, Services, ConfigMaps, ServiceAccounts and RBAC by label; keep the Namespace, the
 *          Secret and the PersistentVolumeClaims (the data) and the cluster.
 *   purge: kind delete cluster, then remove this directory.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ExitCode, UserError, isUserError, usageError, type ErrorCode } from '../lib/errors.js';
import { removeUnder } from '../lib/remove.js';
import { CommandFailed, stderrTail, type Exec, type RunOptions, type RunResult } from '../lib/exec.js';
import type { Output } from '../lib/output.js';
import { packageRoot as defaultPackageRoot } from '../lib/paths.js';
import type { Engine } from '../lib/docker.js';
import { checkConfigFiles, checkDocker, checkLoopbackIsolation, checkPorts } from './preflight.js';
import { stateDir } from '../lib/state.js';
import { defaultSources, type SourceDirs } from '../render/common.js';
import { assignNodePorts, kindClusterConfig, nodePortKey, renderKindConfig, type KindCluster } from '../render/kind.js';
import { kubernetesFiles, kubernetesObjects, type KubeObject } from '../render/kubernetes.js';
import { writeRender } from '../render/write.js';
import { uiUrl } from '../stack/urls.js';
import { buildStack, NAMESPACE_LABEL, type Component, type ComponentName, type Stack } from '../stack/model.js';
import { images } from '../stack/versions.js';
import { checkCgroup, checkKindCapacity, otherProfiles } from './kind/preflight.js';
import { imagesOf, nodeHasImage, type CriImages } from './kind/images.js';
import { staleObjects, storageConflicts } from './kind/cluster-diff.js';
import { NotReady, waitForReady, type Observation } from './readiness.js';
import type { ComponentStatus, DownResult, LogOptions, PreflightCheck, ReadyTimes, Runtime, RuntimeDeps, UpContext } from './runtime.js';
import {
  componentState,
  definitivePull,
  describeProblem,
  isPodStarted,
  itemsOfKind,
  NAME_LABEL,
  PART_OF_LABEL,
  podsOf,
  rolloutStatus,
  worstProblem,
  workloadKinds,
  type KubeList,
  type PodProblem,
  type WorkloadKind,
} from './kind/kube-state.js';

export const DEFAULT_CLUSTER = 'mop-sandbox';
export const KIND_INSTALL = 'install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation';
export const KUBECTL_INSTALL = 'install kubectl: https://kubernetes.io/docs/tasks/tools/#kubectl';
export const DOCKER_INSTALL = 'install Docker: https://docs.docker.com/get-docker/';
/** The kind release that published the node image pinned in versions.ts (images.kindNode). */
export const KIND_VERSION = '0.33.0';
/** kind's known issue "Pod errors due to too many open files": below these, pods fail in odd ways. */
export const INOTIFY_MIN = { 'fs.inotify.max_user_watches': 524288, 'fs.inotify.max_user_instances': 512 } as const;
export const INOTIFY_FIX =
  'sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512 ' +
  '(to keep it after a reboot, put both settings in /etc/sysctl.d/99-kind.conf)';

/** Namespaced kinds `down` deletes (the renderer's objects minus Namespace, Secret and PersistentVolumeClaim). */
export const DOWN_NAMESPACED = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'services', 'configmaps', 'serviceaccounts', 'roles', 'rolebindings', 'networkpolicies'];
/** Cluster-scoped kinds `down` deletes. */
export const DOWN_CLUSTER_SCOPED = ['clusterroles', 'clusterrolebindings'];
/** Kinds `down` keeps, so the next `up` finds the data and the credentials it had. */
export const DOWN_KEEPS = ['Namespace', 'Secret', 'PersistentVolumeClaim'];

/** The node image's Kubernetes version ("v1.35.8"), from the pin in versions.ts. */
export const KUBERNETES_VERSION = images.kindNode.tag.split('@')[0];

/** kind's Podman provider is experimental; `kind load docker-image` still calls the docker CLI. */
export const PODMAN_NOTE: PreflightCheck = {
  id: 'podman',
  title: 'kind on Podman',
  ok: false,
  severity: 'warn',
  detail:
    "the engine is Podman: kind's Podman support is experimental (it logs \"enabling experimental podman provider\"), and rootless Podman needs cgroup v2 with CPU delegation",
  fix: 'if the cluster does not come up, use the compose runtime (`mop-sandbox up --runtime compose`), or see https://kind.sigs.k8s.io/docs/user/rootless/',
};

/** "v1.35.8" from `kubectl version -o json` (clientVersion / serverVersion), or from the text of older kubectls. */
export function kubectlVersion(output: string, which: 'client' | 'server'): string | undefined {
  try {
    const v = (JSON.parse(output) as Record<string, { gitVersion?: string } | undefined>)[`${which}Version`]?.gitVersion;
    if (v) return v;
  } catch {
    /* text output */
  }
  const label = which === 'client' ? 'Client' : 'Server';
  return new RegExp(`${label} Version:\\s*(v\\d+\\.\\d+\\.\\d+\\S*)`).exec(output)?.[1] ?? new RegExp(`${label} Version: version\\.Info\\{[^}]*GitVersion:"(v[^"]+)"`).exec(output)?.[1];
}

const DEFAULT_READY_TIMEOUT_MS = 180_000;
/** Teardown after Ctrl-C runs without the (aborted) signal, but not forever. */
const CLEANUP_TIMEOUT_MS = 120_000;

export interface KindDeps extends RuntimeDeps {
  /** Holds demo-app/Dockerfile (the docker build context). */
  packageRoot?: string;
  /** Where component configs and dashboards are read from. */
  sources?: SourceDirs;
  /** Reads a sysctl such as fs.inotify.max_user_watches; undefined when unreadable. Default: /proc/sys. */
  readSysctl?: (key: string) => Promise<string | undefined>;
  /** Interval between readiness snapshots (default 2 s: each is one kubectl call). */
  pollMs?: number;
  now?: () => number;
  /** Notes that fit no return value (what `down` kept, and how to remove the rest). */
  log?: (line: string) => void;
}

/** What `up` recorded about the cluster it created. */
export interface KindRecord {
  cluster: string;
  createdAt: string;
  /** "127.0.0.1:3000->30007/tcp", sorted. */
  portMappings: string[];
  /** The namespace of the last `up`. */
  namespace?: string;
  /** The profile of the last `up` (named when a profile switch is refused). */
  profile?: string;
}

export interface KindPaths {
  dir: string;
  kubeconfig: string;
  clusterConfig: string;
  manifests: string;
  record: string;
}

/**
 * MOP_KIND_CLUSTER or the default. It names a directory under the state directory that `down --purge` removes,
 * so it must be a plain name: kind's own rule (a DNS label; at most 50 characters so "<name>-control-plane" fits).
 */
export function clusterName(env: NodeJS.ProcessEnv): string {
  const name = env.MOP_KIND_CLUSTER || DEFAULT_CLUSTER;
  if (name.length > 50 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw usageError(
      `MOP_KIND_CLUSTER="${name}" is not a valid kind cluster name`,
      'use at most 50 lowercase letters, digits and "-", starting and ending with a letter or digit',
    );
  }
  return name;
}

const kindStateRoot = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'kind');

export function kindPaths(env: NodeJS.ProcessEnv, cluster = clusterName(env)): KindPaths {
  const dir = join(kindStateRoot(env), cluster);
  return {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    clusterConfig: join(dir, 'kind-cluster.yaml'),
    manifests: join(dir, 'manifests'),
    record: join(dir, 'cluster.json'),
  };
}

const mappingKey = (m: { listenAddress?: string; hostPort?: number | string; containerPort: number | string; protocol?: string }) =>
  `${m.listenAddress || '0.0.0.0'}:${m.hostPort}->${m.containerPort}/${(m.protocol ?? 'tcp').toLowerCase()}`;

/** The port mappings a kind config asks for, in the form compared across runs. */
export function configMappings(config: KindCluster): string[] {
  return config.nodes.flatMap((n) => n.extraPortMappings.map(mappingKey)).sort();
}

/** `docker inspect` PortBindings of a kind node → the same form (the API server's 6443 is kind's own). */
export function bindingsToMappings(bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null): string[] {
  const out: string[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    if (port === '6443') continue;
    for (const b of list ?? []) out.push(mappingKey({ listenAddress: b.HostIp, hostPort: b.HostPort, containerPort: port, protocol: proto }));
  }
  return out.sort();
}

const parseList = (text: string): KubeList => {
  try {
    return JSON.parse(text) as KubeList;
  } catch {
    return {};
  }
};

function versionAtLeast(found: string, min: string): boolean {
  const a = found.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
  component: ComponentName;
}

/** The workloads of a render, in stack order. */
export function workloadsOf(objects: KubeObject[]): WorkloadRef[] {
  return objects
    .filter((o) => workloadKinds.includes(o.kind as WorkloadKind))
    .map((o) => ({
      kind: o.kind as WorkloadKind,
      name: o.metadata!.name!,
      component: (o.metadata?.labels?.[NAME_LABEL] ?? o.metadata!.name!) as ComponentName,
    }));
}

export class KindRuntime implements Runtime {
  readonly name = 'kind' as const;
  /** Server-side apply is idempotent: a second `up` applies what a newer version or a config change brings. */
  readonly reappliesWhenRunning = true;
  readonly project: string;
  readonly paths: KindPaths;
  private readonly exec: Exec;
  private readonly env: NodeJS.ProcessEnv;
  private readonly platform: NodeJS.Platform;
  private readonly root: string;
  private readonly sources: SourceDirs;
  private readonly pollMs: number;
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly readSysctl: (key: string) => Promise<string | undefined>;
  /** The engine preflight found (up reads its cgroup version). */
  private engine?: Engine;

  constructor(private readonly deps: KindDeps) {
    this.exec = deps.exec;
    this.env = deps.env;
    this.platform = deps.platform ?? process.platform;
    this.project = clusterName(deps.env);
    this.paths = kindPaths(deps.env, this.project);
    this.root = deps.packageRoot ?? defaultPackageRoot;
    this.sources = deps.sources ?? defaultSources();
    this.pollMs = deps.pollMs ?? 2000;
    this.now = deps.now ?? Date.now;
    this.log = deps.log ?? (() => undefined);
    this.readSysctl =
      deps.readSysctl ??
      (async (key) => {
        try {
          return (await readFile(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8')).trim();
        } catch {
          return undefined;
        }
      });
  }

  /** `kind-<cluster>`: the context kind writes into our kubeconfig. */
  get context(): string {
    return `kind-${this.project}`;
  }

  /** How a person runs kubectl against this cluster without touching their own config. */
  kubectlHint(namespace?: string): string {
    return `kubectl --kubeconfig ${this.paths.kubeconfig} --context ${this.context}${namespace ? ` -n ${namespace}` : ''}`;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Running programs

  private run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return this.exec.run(file, args, { env: this.env, ...opts });
  }

  private kind(args: string[], opts: RunOptions = {}) {
    return this.run('kind', args, opts);
  }

  private kubectl(args: string[], opts: RunOptions = {}) {
    return this.run('kubectl', ['--kubeconfig', this.paths.kubeconfig, '--context', this.context, ...args], opts);
  }

  private toolMissing(tool: 'kind' | 'kubectl' | 'docker'): UserError {
    const fix = tool === 'kind' ? KIND_INSTALL : tool === 'kubectl' ? KUBECTL_INSTALL : DOCKER_INSTALL;
    return new UserError({
      what: `\`${tool}\` is not installed (not found on PATH)`,
      why: 'the kind runtime runs the stack in a kind cluster and drives it with kind, kubectl and docker',
      next: `${fix}; or use the compose runtime: \`mop-sandbox up --runtime compose\``,
      exitCode: ExitCode.preflight,
      code: ({ kind: 'KIND_MISSING', kubectl: 'KUBECTL_MISSING', docker: 'DOCKER_MISSING' } as const)[tool],
    });
  }

  /** Turns a failed command into the UserError for `what`, or passes anything else through. */
  private explain(e: unknown, what: string, next: string, code: ErrorCode, exitCode: UserError['exitCode'] = ExitCode.failure): unknown {
    if (!(e instanceof CommandFailed)) return e;
    const tool = e.command.split(' ')[0];
    if (e.exitCode === 127 && (tool === 'kind' || tool === 'kubectl' || tool === 'docker')) return this.toolMissing(tool);
    const lines = (e.stderr || e.stdout).trim().split('\n').filter(Boolean).slice(-10);
    return new UserError({
      what,
      why: `\`${e.command}\` exited with code ${e.exitCode}${lines.length ? `: ${lines[lines.length - 1]}` : ''}`,
      details: lines.length > 1 ? lines : [],
      next,
      exitCode,
      code,
    });
  }

  /** The clusters kind knows (`kind get clusters`); kind missing or Docker down are errors only when `must`. */
  private async clusters(must: boolean): Promise<string[]> {
    const r = await this.kind(['get', 'clusters'], { allowFail: true });
    if (r.exitCode === 127) {
      if (must) throw this.toolMissing('kind');
      return [];
    }
    if (r.exitCode !== 0) {
      if (!must) return [];
      throw new UserError({
        what: 'kind cannot list its clusters',
        why: stderrTail(r.stderr || r.stdout, 1) || `\`kind get clusters\` exited with code ${r.exitCode}`,
        next: 'kind runs on Docker: check that `docker info` answers (start Docker Desktop, Colima or dockerd), then try again',
        exitCode: ExitCode.preflight,
        code: 'DOCKER_UNREACHABLE',
      });
    }
    // "No kind clusters found." goes to stderr; stdout has one name per line.
    return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
  }

  private async clusterExists(must = false): Promise<boolean> {
    return (await this.clusters(must)).includes(this.project);
  }

  /** Writes our kubeconfig when it is missing (the cluster was made elsewhere, or the state dir was cleaned). */
  private async ensureKubeconfig(force = false): Promise<void> {
    if (!force && existsSync(this.paths.kubeconfig)) return;
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    try {
      await this.kind(['export', 'kubeconfig', '--name', this.project, '--kubeconfig', this.paths.kubeconfig]);
    } catch (e) {
      throw this.explain(e, `cannot write a kubeconfig for the kind cluster ${this.project}`, 'check `kind get clusters` and `docker ps`; `mop-sandbox down --purge` deletes the cluster', 'KIND_KUBECONFIG');
    }
  }

  private async readRecord(): Promise<KindRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(this.paths.record, 'utf8')) as KindRecord;
      return r.cluster === this.project && Array.isArray(r.portMappings) ? r : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeRecord(r: KindRecord): Promise<void> {
    await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
    await writeFile(this.paths.record, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
  }

  /** Our namespaces (labelled by the renderer) that exist in the cluster. */
  private async ourNamespaces(): Promise<string[]> {
    const r = await this.kubectl(['get', 'namespaces', '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true });
    if (r.exitCode !== 0) return [];
    return r.stdout.split('\n').map((s) => s.trim().replace(/^namespace\//, '')).filter(Boolean);
  }

  // ----------------------------------------------------------------------------------------------------------
  // Preflight

  async preflight(stack: Stack): Promise<PreflightCheck[]> {
    const [kind, kubectl, docker, inotify] = await Promise.all([
      this.checkKind(),
      this.checkKubectl(),
      checkDocker({ exec: this.exec, env: this.env, platform: this.platform, docker: this.deps.docker }),
      this.checkInotify(),
    ]);
    const checks: PreflightCheck[] = [...kind.checks, kubectl, docker.check];
    if (docker.engine) {
      this.engine = docker.engine;
      checks.push(checkCgroup(docker.engine, KUBERNETES_VERSION), ...this.checkCapacity(stack, docker.engine), checkLoopbackIsolation(docker.engine));
      if (docker.engine.product === 'Podman') checks.push(PODMAN_NOTE);
    }
    if (kind.ok && (await this.clusterExists())) {
      // The cluster's node container holds these ports (bound when it was created); `up` checks they match.
      checks.push({
        id: 'ports',
        title: 'host ports free',
        ok: true,
        severity: 'error',
        detail: `held by the existing kind cluster ${this.project} (its port mappings were fixed when it was created)`,
      });
    } else {
      checks.push(...(await checkPorts(stack, { exec: this.exec, docker: docker.docker, platform: this.platform })));
    }
    checks.push(checkConfigFiles(stack, 'kind', this.sources));
    checks.push(...inotify);
    return checks;
  }

  /** CPU and memory: what the render asks the scheduler for (replicas, init containers, control plane) against the engine. */
  private checkCapacity(stack: Stack, engine: Engine): PreflightCheck[] {
    let objects: KubeObject[];
    try {
      objects = kubernetesObjects(stack, { sources: this.sources });
    } catch {
      return []; // a config file is missing: the config check says which
    }
    const alternatives = otherProfiles(stack.profile.name).flatMap((profile) => {
      try {
        const other = buildStack({
          profile,
          store: stack.store,
          ...(stack.store === 'external' ? { s3Endpoint: stack.s3.endpoint } : {}),
          demo: stack.components.some((c) => c.name === 'demo'),
          obi: stack.components.some((c) => c.name === 'obi'),
        });
        return [{ profile, objects: kubernetesObjects(other, { sources: this.sources }) }];
      } catch {
        return [];
      }
    });
    return checkKindCapacity({ stack, engine, objects, alternatives });
  }

  private async checkKind(): Promise<{ ok: boolean; checks: PreflightCheck[] }> {
    const title = 'kind installed';
    const r = await this.kind(['version'], { allowFail: true, timeoutMs: 15_000 });
    if (r.exitCode !== 0) {
      return {
        ok: false,
        checks: [
          {
            id: 'kind',
            title,
            ok: false,
            severity: 'error',
            detail: r.exitCode === 127 ? '`kind` is not on PATH' : `\`kind version\` failed: ${stderrTail(r.stderr || r.stdout, 1)}`,
            fix: KIND_INSTALL,
          },
        ],
      };
    }
    const text = r.stdout.trim();
    const checks: PreflightCheck[] = [{ id: 'kind', title, ok: true, severity: 'error', detail: text }];
    const v = /v(\d+\.\d+\.\d+)/.exec(text)?.[1];
    if (v && !versionAtLeast(v, KIND_VERSION)) {
      checks.push({
        id: 'kind-version',
        title: `kind ${KIND_VERSION} or newer`,
        ok: false,
        severity: 'warn',
        detail: `kind ${v} is older than the kind ${KIND_VERSION} that published the pinned node image; the cluster may not start`,
        fix: `upgrade kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation`,
      });
    }
    return { ok: true, checks };
  }

  private async checkKubectl(): Promise<PreflightCheck> {
    const title = 'kubectl installed';
    const r = await this.run('kubectl', ['version', '--client', '-o', 'json'], { allowFail: true, timeoutMs: 15_000 });
    if (r.exitCode !== 0) {
      return {
        id: 'kubectl',
        title,
        ok: false,
        severity: 'error',
        detail: r.exitCode === 127 ? '`kubectl` is not on PATH' : `\`kubectl version --client\` failed: ${stderrTail(r.stderr || r.stdout, 1)}`,
        fix: KUBECTL_INSTALL,
      };
    }
    return { id: 'kubectl', title, ok: true, severity: 'error', detail: `kubectl ${kubectlVersion(r.stdout, 'client') ?? r.stdout.trim().split('\n')[0]}` };
  }

  /** Linux only: Docker Desktop and Colima run kind inside their own VM, whose limits we cannot read. */
  private async checkInotify(): Promise<PreflightCheck[]> {
    if (this.platform !== 'linux') return [];
    const found: [string, number, number][] = [];
    for (const [key, min] of Object.entries(INOTIFY_MIN)) {
      const v = Number(await this.readSysctl(key));
      if (!Number.isFinite(v) || v <= 0) return [];
      found.push([key, v, min]);
    }
    const low = found.filter(([, v, min]) => v < min);
    const title = 'inotify limits for kind';
    if (!low.length) return [{ id: 'inotify', title, ok: true, severity: 'warn', detail: found.map(([k, v]) => `${k.split('.').pop()}=${v}`).join(', ') }];
    return [
      {
        id: 'inotify',
        title,
        ok: false,
        severity: 'warn',
        detail: `${low.map(([k, v, min]) => `${k}=${v} (kind needs ${min})`).join(', ')}: pods may fail with "too many open files"`,
        fix: INOTIFY_FIX,
      },
    ];
  }

  // ----------------------------------------------------------------------------------------------------------
  // up

  async up(stack: Stack, ctx: UpContext): Promise<ReadyTimes> {
    const { out, signal } = ctx;
    const ns = stack.profile.namespace;
    let stage: 'render' | 'create' | 'images' | 'apply' | 'wait' = 'render';
    try {
      if (signal.aborted) throw signal.reason;
      await mkdir(this.paths.dir, { recursive: true, mode: 0o700 });
      const existed = await this.clusterExists(true);
      // A new cluster on a cgroup v1 engine gets the kubelet setting that lets Kubernetes >= 1.35 start there.
      const cgroupV1 = !existed && (await this.engineInfo())?.cgroupVersion === '1';
      const config = kindClusterConfig(stack, { name: this.project, cgroupV1 });
      const files = (imageIds: Record<string, string> = {}) => [
        { path: 'kind-cluster.yaml', content: renderKindConfig(stack, { name: this.project, cgroupV1 }) },
        ...kubernetesFiles(stack, { credentials: ctx.credentials, sources: this.sources, imageIds }),
      ];
      await writeRender(this.paths.dir, files());
      const objects = kubernetesObjects(stack, { sources: this.sources });

      if (existed) {
        await this.checkPortMappings(stack, config);
        await this.ensureKubeconfig(true);
        // Refuse a change Kubernetes would refuse halfway through the apply, before anything changes.
        await this.checkStorage(stack, objects, signal);
        out.step(`kind cluster ${this.project}`).ok('exists, reused');
      } else {
        stage = 'create';
        await this.createCluster(config, stack, out, signal);
      }

      stage = 'images';
      const imageIds: Record<string, string> = {};
      for (const c of stack.components.filter((x) => x.build)) imageIds[c.name] = await this.buildAndLoad(c, out, signal);
      if (Object.keys(imageIds).length) await writeRender(this.paths.dir, files(imageIds));
      // Every other image is pulled into the node now, with progress, so the readiness deadline measures readiness only.
      await this.pullImages(stack, objects, out, signal);
      await this.checkVersionSkew(out, signal);

      stage = 'apply';
      const startedAt = this.now();
      await this.apply(ns, objects, existed, out, signal);
      const record = await this.readRecord();
      if (record) await this.writeRecord({ ...record, namespace: ns, profile: stack.profile.name });

      stage = 'wait';
      return await this.waitReady(stack, objects, ctx, startedAt);
    } catch (e) {
      if (signal.aborted) throw await this.interrupted(stage, ns);
      throw e;
    }
  }

  /** The engine preflight found, or a fresh look when `up` runs without preflight. */
  private async engineInfo(): Promise<Engine | undefined> {
    this.engine ??= (await checkDocker({ exec: this.exec, env: this.env, platform: this.platform, docker: this.deps.docker })).engine;
    return this.engine;
  }

  /** Data claims this render would resize: Kubernetes refuses that (immutable claim templates, no expansion on kind). */
  private async checkStorage(stack: Stack, objects: KubeObject[], signal: AbortSignal): Promise<void> {
    const ns = stack.profile.namespace;
    const r = await this.kubectl(['get', 'statefulsets,persistentvolumeclaims', '-n', ns, '-l', PART_OF_LABEL, '-o', 'json'], { allowFail: true, signal });
    if (r.exitCode !== 0) return; // nothing of ours there yet (or the API is slow: apply will say)
    const conflicts = storageConflicts(parseList(r.stdout), objects);
    if (!conflicts.length) return;
    const before = (await this.readRecord())?.profile;
    throw new UserError({
      what: `the namespace ${ns} holds data volumes of other sizes than the ${stack.profile.name} profile asks for${before && before !== stack.profile.name ? ` (made by the ${before} profile)` : ''}`,
      why: "Kubernetes cannot change them in place: a StatefulSet's volume claim templates are immutable and kind's `standard` StorageClass does not allow resizing; nothing was changed",
      details: conflicts,
      next:
        `keep the profile the data was made with${before && before !== stack.profile.name ? ` (\`mop-sandbox up --profile ${before}\`)` : ''}, ` +
        `or start over: \`mop-sandbox down --purge\` deletes the kind cluster and its data, then \`mop-sandbox up --runtime kind --profile ${stack.profile.name}\``,
      exitCode: ExitCode.preflight,
      code: 'PROFILE_SWITCH_REFUSED',
    });
  }

  /** Pulls every image the render names (except those built here) into the node, a few at a time, with retries. */
  private async pullImages(stack: Stack, objects: KubeObject[], out: Output, signal: AbortSignal): Promise<void> {
    const node = `${this.project}-control-plane`;
    const images = imagesOf(objects, new Set(stack.components.filter((c) => c.build).map((c) => c.image)));
    const listed = await this.run('docker', ['exec', node, 'crictl', 'images', '-o', 'json'], { allowFail: true, signal });
    let present: CriImages;
    try {
      if (listed.exitCode !== 0) throw new Error(stderrTail(listed.stderr || listed.stdout, 1) || `exit ${listed.exitCode}`);
      present = JSON.parse(listed.stdout) as CriImages;
    } catch (e) {
      // No way into the node (another kind provider, an old node image): the kubelet pulls instead, on the clock.
      if (signal.aborted) throw e;
      out.warn(`could not list the images in the kind node ${node} (${(e as Error).message}); the cluster pulls them itself, inside the readiness deadline`);
      return;
    }
    const missing = images.filter((i) => !nodeHasImage(present, i));
    if (!missing.length) {
      out.step(`images: all ${images.length} present in the kind node`).ok('no pull needed');
      return;
    }
    const steps = out.group(missing.map((i) => `pull ${i} (into the kind node)`));
    const failures: { image: string; stderr: string }[] = [];
    const pullOne = async (image: string, i: number) => {
      const started = this.now();
      for (let attempt = 1; ; attempt++) {
        const r = await this.run('docker', ['exec', node, 'crictl', 'pull', image], { allowFail: true, signal });
        if (r.exitCode === 0) return steps[i].ok(`${((this.now() - started) / 1000).toFixed(1)}s`);
        if (signal.aborted) return steps[i].fail('interrupted');
        if (attempt >= 3 || definitivePull.test(r.stderr)) {
          steps[i].fail(stderrTail(r.stderr, 1));
          failures.push({ image, stderr: r.stderr });
          return;
        }
        steps[i].update(`retrying (attempt ${attempt + 1} of 3)`);
        await new Promise((res) => setTimeout(res, this.pollMs * attempt));
      }
    };
    const queue = missing.map((image, i) => () => pullOne(image, i));
    await Promise.all(
      Array.from({ length: Math.min(3, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await job();
      }),
    );
    if (signal.aborted) throw signal.reason ?? new Error('interrupted');
    if (!failures.length) return;
    throw new UserError({
      what: `could not pull ${failures.map((f) => f.image).join(', ')} into the kind node`,
      why: stderrTail(failures[0].stderr, 1),
      details: failures.flatMap((f) => [`${f.image}:`, ...stderrTail(f.stderr, 5).split('\n').map((l) => `  ${l}`)]),
      next: this.loadHint(failures[0].image),
      exitCode: ExitCode.preflight,
      code: 'IMAGE_PULL_FAILED',
    });
  }

  /**
   * How to get an image into the node by hand. Through an archive for one platform: `kind load docker-image` of a
   * pulled multi-platform image fails on Docker's containerd image store (kubernetes-sigs/kind#3795).
   */
  loadHint(image: string): string {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    return (
      `check that this machine can pull it: \`docker pull --platform linux/${arch} ${image}\`; then load it into the cluster: ` +
      `\`docker save --platform linux/${arch} -o image.tar ${image} && kind load image-archive image.tar --name ${this.project}\`, ` +
      'and run `mop-sandbox up` again; behind a mirror set MOP_REGISTRY_MIRROR'
    );
  }

  /** kubectl supports one minor version of skew either way; warn beyond that (commands may misbehave). */
  private async checkVersionSkew(out: Output, signal: AbortSignal): Promise<void> {
    const r = await this.kubectl(['version', '-o', 'json'], { allowFail: true, signal, timeoutMs: 15_000 });
    const minor = (v: string | undefined) => Number(/^v?\d+\.(\d+)/.exec(v ?? '')?.[1]);
    const client = kubectlVersion(r.stdout, 'client');
    const server = kubectlVersion(r.stdout, 'server');
    const skew = Math.abs(minor(client) - minor(server));
    if (Number.isFinite(skew) && skew > 1) {
      out.warn(
        `kubectl ${client} is ${skew} minor versions away from the cluster's ${server}; kubectl supports ±1 ` +
          `(https://kubernetes.io/releases/version-skew-policy/#kubectl): if a command misbehaves, install a kubectl within one minor version of ${server}`,
      );
    }
  }

  private async checkPortMappings(stack: Stack, config: KindCluster): Promise<void> {
    const want = configMappings(config);
    const record = await this.readRecord();
    let have = record?.portMappings;
    let source = `recorded in ${this.paths.record} when the cluster was created`;
    if (!have) {
      // No record (state dir cleaned, or the cluster was made by hand): ask Docker what the node publishes.
      const r = await this.run('docker', ['inspect', '--format', '{{json .HostConfig.PortBindings}}', `${this.project}-control-plane`], { allowFail: true });
      if (r.exitCode === 0) {
        try {
          have = bindingsToMappings(JSON.parse(r.stdout));
          source = `published by the node container ${this.project}-control-plane`;
          // Remember them, so later runs compare without asking Docker (and `logs` knows the namespace).
          await this.writeRecord({ cluster: this.project, createdAt: 'unknown (found existing)', portMappings: have });
        } catch {
          /* unreadable: nothing to compare */
        }
      }
    }
    if (!have) {
      this.log(`could not tell which ports the kind cluster ${this.project} maps; if a URL does not answer, run \`mop-sandbox down --purge\` and \`up\` again`);
      return;
    }
    // Extra mappings on the cluster are harmless (nothing listens behind them); a missing one is a dead URL.
    const missing = want.filter((m) => !have!.includes(m));
    if (!missing.length) return;
    const nodePorts = assignNodePorts(stack);
    const describe = (m: string) => {
      const p = stack.published.find((x) => m === mappingKey({ listenAddress: x.hostIp, hostPort: x.hostPort, containerPort: nodePorts.get(nodePortKey(x))!, protocol: 'tcp' }));
      return p ? `${p.component}.${p.name} on ${p.hostIp}:${p.hostPort}` : m;
    };
    throw new UserError({
      what: `the kind cluster ${this.project} was created with other port mappings than this stack needs`,
      why: `kind fixes a cluster's port mappings (extraPortMappings) when it creates it and cannot change them later; not mapped: ${missing.map(describe).join(', ')}`,
      details: [`the cluster maps (${source}):`, ...have.map((m) => `  ${m}`)],
      next:
        'run `mop-sandbox down --purge` (this deletes the cluster and the data in it), then `mop-sandbox up --runtime kind` again; ' +
        'or go back to the ports the cluster was created with',
      exitCode: ExitCode.preflight,
      code: 'KIND_PORTS_CHANGED',
    });
  }

  private async createCluster(config: KindCluster, stack: Stack, out: Output, signal: AbortSignal): Promise<void> {
    const step = out.step(`kind cluster ${this.project} (creating; about a minute, several on the first run while it pulls the node image)`);
    try {
      await this.kind(
        ['create', 'cluster', '--name', this.project, '--config', this.paths.clusterConfig, '--kubeconfig', this.paths.kubeconfig, '--wait', '60s'],
        { signal },
      );
    } catch (e) {
      step.fail();
      if (signal.aborted) throw e;
      throw this.explain(
        e,
        `kind could not create the cluster ${this.project}`,
        `check that Docker runs and has disk space (\`docker info\`, \`docker system df\`); the config is ${this.paths.clusterConfig}. ` +
          'Then run `mop-sandbox up --runtime kind` again (`mop-sandbox down --purge` removes a half-made cluster)',
        'KIND_CREATE_FAILED',
      );
    }
    await this.writeRecord({ cluster: this.project, createdAt: new Date(this.now()).toISOString(), portMappings: configMappings(config), profile: stack.profile.name });
    step.ok();
  }

  /** Builds a local image and loads it into the node; returns its image ID (it goes on the pod template). */
  private async buildAndLoad(c: Component, out: Output, signal: AbortSignal): Promise<string> {
    const step = out.step(`image ${c.image} (docker build, kind load)`);
    try {
      await this.run('docker', ['build', '-f', join(this.root, c.build!.dockerfile), '-t', c.image, this.root], { signal });
    } catch (e) {
      step.fail();
      if (signal.aborted) throw e;
      throw this.explain(
        e,
        `could not build the ${c.name} image ${c.image}`,
        `read the build output above; build it by hand with \`docker build -f ${c.build!.dockerfile} -t ${c.image} .\` in ${this.root}, or run without it (MOP_DEMO=false)`,
        'IMAGE_BUILD_FAILED',
      );
    }
    try {
      await this.kind(['load', 'docker-image', c.image, '--name', this.project], { signal });
    } catch (e) {
      step.fail();
      if (signal.aborted) throw e;
      throw this.explain(
        e,
        `could not load the image ${c.image} into the kind cluster ${this.project}`,
        `try it by hand: \`kind load docker-image ${c.image} --name ${this.project}\`; if the cluster is broken, \`mop-sandbox down --purge\``,
        'KIND_LOAD_FAILED',
      );
    }
    const id = (await this.run('docker', ['image', 'inspect', '--format', '{{.Id}}', c.image], { signal })).stdout.trim();
    step.ok(id.replace(/^sha256:/, '').slice(0, 12));
    return id;
  }

  private async apply(ns: string, objects: KubeObject[], existed: boolean, out: Output, signal: AbortSignal): Promise<void> {
    const step = out.step(`apply manifests (namespace ${ns})`);
    try {
      if (existed) {
        // A Job's pod template cannot change, and the bucket job must run again on every `up` (it is idempotent).
        const jobs = workloadsOf(objects).filter((w) => w.kind === 'Job').map((w) => `job/${w.name}`);
        if (jobs.length) await this.kubectl(['delete', '-n', ns, ...jobs, '--ignore-not-found'], { signal });
        await this.pruneStale(ns, objects, out, signal);
      }
      // Server-side: no last-applied annotation, so large dashboard ConfigMaps fit; files apply in name order
      // (00-namespace.yaml first).
      await this.kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=mop-sandbox', '-f', this.paths.manifests], { signal });
    } catch (e) {
      step.fail();
      if (signal.aborted) throw e;
      const portTaken = e instanceof CommandFailed && /port is already allocated/i.test(e.stderr);
      throw this.explain(
        e,
        `kubectl could not apply the manifests to the kind cluster ${this.project}`,
        portTaken
          ? 'another namespace (another profile) still holds the NodePorts: run `mop-sandbox down` first (data is kept), then `up` again'
          : e instanceof CommandFailed && /Forbidden|field is immutable/i.test(e.stderr)
            ? `the cluster refuses to change an object in place (see the line above); \`mop-sandbox down\` removes the workloads and keeps the data, \`mop-sandbox down --purge\` starts over without it`
            : `the manifests are in ${this.paths.manifests}; check them with \`${this.kubectlHint()} apply --server-side --dry-run=server -f ${this.paths.manifests}\``,
        'APPLY_FAILED',
      );
    }
    step.ok();
  }

  /**
   * Deletes our objects the render no longer has (a component turned off, an object an older version made):
   * namespaced ones in `ns`, and cluster-scoped ones labelled for `ns`. Data claims, the Secret and the Namespace stay.
   */
  private async pruneStale(ns: string, objects: KubeObject[], out: Output, signal: AbortSignal): Promise<void> {
    const get = async (args: string[]) => {
      const r = await this.kubectl(['get', ...args, '-o', 'json'], { allowFail: true, signal });
      return r.exitCode === 0 ? parseList(r.stdout) : {};
    };
    const stale = [
      ...staleObjects(await get([DOWN_NAMESPACED.join(','), '-n', ns, '-l', PART_OF_LABEL]), objects),
      ...staleObjects(await get([DOWN_CLUSTER_SCOPED.join(','), '-l', `${PART_OF_LABEL},${NAMESPACE_LABEL}=${ns}`]), objects),
    ];
    if (!stale.length) return;
    await this.kubectl(['delete', '-n', ns, ...stale, '--ignore-not-found', '--wait=false'], { signal });
    out.info(`removed what is no longer part of the stack: ${stale.join(', ')}`);
  }

  /** One snapshot per tick of every workload and pod of ours, judged like `kubectl rollout status`. */
  private async waitReady(stack: Stack, objects: KubeObject[], ctx: UpContext, startedAt: number): Promise<ReadyTimes> {
    const ns = stack.profile.namespace;
    const workloads = workloadsOf(objects);
    const names = [...new Set(workloads.map((w) => w.component))];
    const timeoutMs = ctx.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
    const steps = new Map(ctx.out.group(names).map((s, i) => [names[i], s]));
    const done = new Set<ComponentName>();
    const observe = async (pending: ComponentName[]): Promise<Map<ComponentName, Observation>> => {
      const result = new Map<ComponentName, Observation>();
      const r = await this.kubectl(['get', 'deployments,statefulsets,daemonsets,jobs,pods', '-n', ns, '-l', PART_OF_LABEL, '-o', 'json'], {
        allowFail: true,
        signal: ctx.signal,
      });
      let list: KubeList | undefined;
      try {
        list = r.exitCode === 0 ? (JSON.parse(r.stdout) as KubeList) : undefined;
      } catch {
        list = undefined;
      }
      for (const name of pending) {
        if (!list) {
          result.set(name, { kind: 'waiting', detail: `the API server did not answer (${stderrTail(r.stderr, 1) || `exit ${r.exitCode}`})` });
          continue;
        }
        result.set(name, this.observeComponent(list, workloads.filter((w) => w.component === name)));
      }
      return result;
    };
    try {
      return await waitForReady({
        components: names,
        observe,
        startedAt,
        timeoutMs,
        intervalMs: this.pollMs,
        signal: ctx.signal,
        now: this.now,
        onWaiting: (name, detail) => steps.get(name)?.update(detail),
        onReady: (name, seconds) => {
          done.add(name);
          steps.get(name)?.ok(`ready in ${seconds.toFixed(1)}s`);
        },
      });
    } catch (e) {
      const culprits = e instanceof NotReady ? e.components : [];
      for (const name of names) {
        if (done.has(name)) continue;
        if (ctx.signal.aborted) steps.get(name)?.fail('interrupted');
        else if (culprits.includes(name)) steps.get(name)?.fail(e instanceof NotReady && e.reason === 'failed' ? e.detail : 'not ready in time');
        else steps.get(name)?.fail('stopped waiting');
      }
      if (e instanceof NotReady && !ctx.signal.aborted) throw await this.notReadyError(e, stack, timeoutMs);
      throw e;
    }
  }

  private observeComponent(list: KubeList, refs: WorkloadRef[]): Observation {
    const component = refs[0].component;
    const found = refs.map((w) => itemsOfKind<Parameters<typeof rolloutStatus>[0]>(list, w.kind).find((o) => o.metadata?.name === w.name));
    const pods = podsOf(list, component);
    const problem = worstProblem(pods);
    const started = pods.some(isPodStarted);
    if (found.some((o) => !o)) return { kind: 'waiting', detail: 'not created yet' };
    const rollouts = found.map((o) => rolloutStatus(o!));
    if (rollouts.every((s) => s.done)) return { kind: 'ready' };
    const failed = rollouts.find((s) => s.failed);
    if (failed) return { kind: 'failed', reason: failed.failed! };
    if (problem?.fatal) return { kind: 'failed', reason: `${problem.pod}: ${describeProblem(problem)}` };
    return { kind: 'waiting', detail: problem ? describeProblem(problem) : rollouts.find((s) => !s.done)!.detail, started };
  }

  /** The component(s) at fault, their pod's problem, the last 50 log lines, and the next thing to try. */
  private async notReadyError(e: NotReady, stack: Stack, timeoutMs: number): Promise<UserError> {
    const ns = stack.profile.namespace;
    const culprits = e.components.slice(0, 3);
    const details: string[] = [];
    let first: { component: ComponentName; problem?: PodProblem } | undefined;
    for (const name of culprits) {
      const r = await this.kubectl(['get', 'pods', '-n', ns, '-l', `${NAME_LABEL}=${name}`, '-o', 'json'], { allowFail: true });
      let pods: Pod[] = [];
      try {
        pods = r.exitCode === 0 ? podsOf(JSON.parse(r.stdout) as KubeList, name) : [];
      } catch {
        pods = [];
      }
      const problem = worstProblem(pods);
      first ??= { component: name, problem };
      if (!problem) {
        details.push(`${name}: ${pods.length ? 'its pods look fine now' : 'no pod was created'}`);
        continue;
      }
      details.push(`${name}: pod ${problem.pod}: ${describeProblem(problem)}`);
      const logArgs = ['logs', '-n', ns, `pod/${problem.pod}`, ...(problem.container ? ['-c', problem.container] : []), '--tail=50', ...(problem.previous ? ['--previous'] : [])];
      const logs = await this.kubectl(logArgs, { allowFail: true });
      const lines = logs.stdout.replace(/\r/g, '').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
      if (logs.exitCode === 0 && lines.length) {
        details.push(`last ${Math.min(50, lines.length)} log lines of ${problem.pod}${problem.previous ? ' (previous container)' : ''}:`, ...lines.slice(-50).map((l) => `  ${l}`));
      } else {
        details.push(`(no log lines from ${problem.pod}${logs.exitCode ? `: ${stderrTail(logs.stderr, 1)}` : ''})`);
      }
    }
    const seconds = Math.round(timeoutMs / 1000);
    const what =
      e.reason === 'failed'
        ? `${culprits[0]} failed to start: ${e.detail}`
        : `${culprits.join(', ')} ${culprits.length === 1 ? 'was' : 'were'} not ready within ${seconds}s`;
    return new UserError({
      what,
      why: e.reason === 'failed' ? undefined : e.detail,
      details,
      next: this.nextStep(stack, first?.component ?? culprits[0], first?.problem),
      exitCode: ExitCode.notReady,
      code: 'NOT_READY',
    });
  }

  private nextStep(stack: Stack, name: ComponentName, problem: PodProblem | undefined): string {
    const ns = stack.profile.namespace;
    const kc = this.kubectlHint(ns);
    const c = stack.components.find((x) => x.name === name);
    if (!problem) return `see why no pod was created: \`${kc} describe ${c?.workload.toLowerCase() ?? 'deployment'}/${name}\``;
    const describe = `\`${kc} describe pod ${problem.pod}\` shows the events`;
    const image = c?.image ?? problem.image ?? '<image>';
    if (/ImagePull|ErrImage|InvalidImageName/.test(problem.reason)) {
      if (c?.build) return `the image ${image} is built here and loaded with \`kind load docker-image ${image} --name ${this.project}\`; run that, then \`mop-sandbox up\` again`;
      return this.loadHint(image);
    }
    if (/Unschedulable|Insufficient/i.test(`${problem.reason} ${problem.message ?? ''}`)) {
      return `the kind node lacks memory or CPU for ${name}: give Docker more (Docker Desktop → Settings → Resources) or use \`--profile dev\`; ${describe}`;
    }
    if (problem.reason === 'OOMKilled') return `${name} ran out of memory (limit ${c?.resources.limits.memory ?? '?'}): give Docker more memory or use \`--profile dev\``;
    if (problem.reason === 'Init:wait-for-buckets') return `${name} is waiting for its buckets: \`mop-sandbox logs buckets\` and \`mop-sandbox logs store\` show why they are missing`;
    if (problem.reason === 'CrashLoopBackOff' || /^exited/.test(problem.reason)) {
      return `read the log lines above; \`mop-sandbox logs ${name}\` shows more and ${describe}; fix the cause and run \`mop-sandbox up\` again`;
    }
    return `it may only be slow (first image pulls happen inside the cluster): run \`mop-sandbox up\` again, it continues where it stopped; ${describe}`;
  }

  /** After Ctrl-C: remove what this `up` started (cluster creation half done, or the workloads), keep the data. */
  private async interrupted(stage: string, ns: string): Promise<UserError> {
    let why: string;
    try {
      if (stage === 'create') {
        await this.kind(['delete', 'cluster', '--name', this.project, '--kubeconfig', this.paths.kubeconfig], { allowFail: true, timeoutMs: CLEANUP_TIMEOUT_MS });
        why = `the half-created kind cluster ${this.project} was deleted`;
      } else if (stage === 'apply' || stage === 'wait') {
        await this.deleteWorkloads([ns], { wait: false, timeoutMs: CLEANUP_TIMEOUT_MS, onlyTheirClusterObjects: true });
        why = `the workloads were removed; the kind cluster ${this.project} and the data volumes were kept`;
      } else {
        why = stage === 'render' ? 'nothing was created' : `nothing was started; the kind cluster ${this.project} was kept`;
      }
    } catch (e) {
      why = `cleaning up failed too (${(e as Error).message})`;
    }
    return new UserError({
      what: `interrupted during ${stage === 'render' ? 'preparation' : stage === 'create' ? 'cluster creation' : stage === 'images' ? 'the image build' : 'startup'}`,
      why,
      next: '`mop-sandbox up --runtime kind` starts again; `mop-sandbox down --purge` deletes the cluster and its data',
      exitCode: ExitCode.interrupted,
      code: 'INTERRUPTED',
    });
  }

  // ----------------------------------------------------------------------------------------------------------
  // exists, status, logs

  /**
   * The cluster exists and one of our namespaces holds workloads. A namespace left by `down` (it keeps the
   * Secret and the data claims) does not count: nothing of the stack runs there.
   */
  async exists(): Promise<boolean> {
    if (!(await this.clusterExists())) return false;
    await this.ensureKubeconfig();
    const r = await this.kubectl(['get', 'deployments,statefulsets,daemonsets,jobs', '--all-namespaces', '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true });
    return r.exitCode === 0 && r.stdout.trim() !== '';
  }

  async status(stack: Stack): Promise<ComponentStatus[]> {
    if (!(await this.clusterExists(true))) return [];
    await this.ensureKubeconfig();
    const ns = stack.profile.namespace;
    let list: KubeList;
    try {
      list = JSON.parse((await this.kubectl(['get', 'pods', '-n', ns, '-o', 'json'])).stdout) as KubeList;
    } catch (e) {
      throw this.explain(
        e,
        `cannot read the pods of the kind cluster ${this.project}`,
        `if its node container is stopped, \`docker start ${this.project}-control-plane\`; \`mop-sandbox down --purge\` deletes the cluster`,
        'KIND_UNREACHABLE',
      );
    }
    const ours = itemsOfKind<Pod>(list, 'Pod').filter((p) => p.metadata?.labels?.['app.kubernetes.io/part-of'] === 'mop-sandbox');
    if (!ours.length) return [];
    return stack.components.map((c) => {
      const s = componentState(podsOf(list, c.name), Boolean(c.oneShot));
      const url = s.state === 'running' ? uiUrl(stack, c.name) : undefined;
      return { name: c.name, ...s, ...(url ? { url } : {}) };
    });
  }

  /** The namespace of the last `up` if it still exists, else any of ours. */
  private async activeNamespace(): Promise<string | undefined> {
    const all = await this.ourNamespaces();
    const last = (await this.readRecord())?.namespace;
    return last && all.includes(last) ? last : all[0];
  }

  async logs(component: ComponentName | undefined, opts: LogOptions): Promise<void> {
    const notRunning = (why: string) =>
      new UserError({ what: 'no logs to show: the stack is not running on kind', why, next: 'start it: `mop-sandbox up --runtime kind`', code: 'NOT_RUNNING' });
    if (!(await this.clusterExists(true))) throw notRunning(`there is no kind cluster named ${this.project}`);
    await this.ensureKubeconfig();
    const ns = await this.activeNamespace();
    if (!ns) throw notRunning(`the kind cluster ${this.project} has no mop-sandbox namespace`);
    const args = [
      'logs',
      '-n',
      ns,
      '-l',
      component ? `${NAME_LABEL}=${component}` : NAME_LABEL,
      // `--tail all` reaches us as a huge number; kubectl spells "everything" -1.
      `--tail=${opts.tail >= Number.MAX_SAFE_INTEGER ? -1 : opts.tail}`,
      '--prefix',
      '--max-log-requests=50',
      ...(opts.follow ? ['-f', '--ignore-errors'] : []),
    ];
    // "[pod/tempo-0/tempo] msg": the container is named after its component.
    const format = (line: string) => {
      const m = /^\[pod\/[^/\]]+\/([^\]]+)\] ?(.*)$/.exec(line);
      if (!m) return line;
      return component ? m[2] : `${m[1]} | ${m[2]}`;
    };
    let partial = '';
    const onStdout = (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) opts.write(format(l.replace(/\r$/, '')));
    };
    const r = await this.kubectl(args, { allowFail: true, signal: opts.signal, onStdout });
    if (partial) opts.write(format(partial));
    if (opts.signal.aborted) return;
    if (r.exitCode === 127) throw this.toolMissing('kubectl');
    if (r.exitCode !== 0 && !r.stdout.trim()) {
      throw new UserError({
        what: `kubectl could not read the logs${component ? ` of ${component}` : ''}`,
        why: stderrTail(r.stderr, 1) || `exit ${r.exitCode}`,
        next: `check that it runs: \`mop-sandbox status\`; or ask kubectl directly: \`${this.kubectlHint(ns)} logs -l ${NAME_LABEL}${component ? `=${component}` : ''}\``,
        code: 'LOGS_FAILED',
      });
    }
  }

  // ----------------------------------------------------------------------------------------------------------
  // down

  /** Counts our pods and PersistentVolumeClaims (what `down` reports as containers and volumes). */
  private async countOurs(namespaces: string[] | 'all'): Promise<{ pods: number; claims: number }> {
    const scope = namespaces === 'all' ? [['--all-namespaces']] : namespaces.map((n) => ['-n', n]);
    let pods = 0;
    let claims = 0;
    for (const s of scope) {
      const r = await this.kubectl(['get', 'pods,persistentvolumeclaims', ...s, '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true, timeoutMs: 30_000 });
      if (r.exitCode !== 0) continue;
      for (const line of r.stdout.split('\n')) {
        if (line.startsWith('pod/')) pods++;
        if (line.startsWith('persistentvolumeclaim/')) claims++;
      }
    }
    return { pods, claims };
  }

  /**
   * Deletes everything `up` applied except the Namespace, the Secret and the PersistentVolumeClaims.
   * The claims are what keeps data: kind's default StorageClass (`standard`, rancher's local-path provisioner)
   * stores each volume in a directory inside the node container, where it stays as long as the claim and the
   * cluster exist; with the claim kept, the next `up` binds the same volume. `kind delete cluster` removes it.
   */
  private async deleteWorkloads(namespaces: string[], opts: { wait: boolean; timeoutMs?: number; onlyTheirClusterObjects?: boolean }): Promise<void> {
    // `down` waits until the pods are gone (foreground), so a following `up` or compose run starts clean;
    // after Ctrl-C nobody wants to wait, and Kubernetes removes the pods on its own.
    const how = opts.wait ? ['--cascade=foreground', '--timeout=120s'] : ['--wait=false'];
    for (const ns of namespaces) {
      await this.kubectl(['delete', DOWN_NAMESPACED.join(','), '-n', ns, '-l', PART_OF_LABEL, '--ignore-not-found', ...how], { timeoutMs: opts.timeoutMs });
    }
    // After Ctrl-C only the interrupted namespace's RBAC goes: another namespace of ours may be running on it.
    const selector = opts.onlyTheirClusterObjects ? `${PART_OF_LABEL},${NAMESPACE_LABEL} in (${namespaces.join(',')})` : PART_OF_LABEL;
    await this.kubectl(['delete', DOWN_CLUSTER_SCOPED.join(','), '-l', selector, '--ignore-not-found', ...how], { timeoutMs: opts.timeoutMs });
  }

  async down(opts: { purge: boolean }): Promise<DownResult> {
    const result: DownResult = { containers: 0, networks: 0, volumes: 0, volumesKept: 0 };
    let exists: boolean;
    try {
      exists = await this.clusterExists(true);
    } catch (e) {
      // Without kind there can be no kind cluster of ours: nothing to remove but our files.
      if (!isUserError(e, 'KIND_MISSING')) throw e;
      this.log('kind is not installed, so there is no kind cluster to remove');
      if (opts.purge) await removeUnder(kindStateRoot(this.env), this.paths.dir);
      return result;
    }
    if (opts.purge) {
      if (exists) {
        await this.ensureKubeconfig().catch(() => undefined);
        const counts = await this.countOurs('all');
        try {
          await this.kind(['delete', 'cluster', '--name', this.project, '--kubeconfig', this.paths.kubeconfig]);
        } catch (e) {
          throw this.explain(
            e,
            `kind could not delete the cluster ${this.project}`,
            `try \`kind delete cluster --name ${this.project}\`, or remove its node container: \`docker rm -f ${this.project}-control-plane\``,
            'KIND_DELETE_FAILED',
          );
        }
        // The node container, with every pod and volume inside it.
        result.containers = counts.pods + 1;
        result.volumes = counts.claims;
        this.log(`deleted the kind cluster ${this.project} and the data in it`);
      } else {
        this.log(`nothing to delete: there is no kind cluster named ${this.project}`);
      }
      await removeUnder(kindStateRoot(this.env), this.paths.dir);
      return result;
    }
    if (!exists) {
      this.log(`nothing to do: there is no kind cluster named ${this.project}`);
      return result;
    }
    await this.ensureKubeconfig();
    const namespaces = await this.ourNamespaces();
    if (!namespaces.length) {
      this.log(`nothing to do: the kind cluster ${this.project} holds no mop-sandbox namespace`);
      return result;
    }
    const before = await this.countOurs(namespaces);
    try {
      await this.deleteWorkloads(namespaces, { wait: true });
    } catch (e) {
      throw this.explain(
        e,
        `could not remove the stack from the kind cluster ${this.project}`,
        `see what is left: \`${this.kubectlHint()} get all -A -l ${PART_OF_LABEL}\`; \`mop-sandbox down --purge\` deletes the whole cluster`,
        'DOWN_FAILED',
      );
    }
    result.containers = before.pods;
    result.volumesKept = before.claims;
    this.log(
      `kept the data (${before.claims} volume claim${before.claims === 1 ? '' : 's'} in ${namespaces.join(', ')}) and the kind cluster ${this.project}, ` +
        'which still holds its host ports; `mop-sandbox down --purge` deletes both',
    );
    return result;
  }
}

export function createKindRuntime(deps: KindDeps): KindRuntime {
  return new KindRuntime(deps);
}
