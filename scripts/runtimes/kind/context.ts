/**
 * What every stage of the kind runtime works with: the deps, the cluster's name and files, and the kind/kubectl
 * adapter (every program runs through Exec with our own kubeconfig and context; a failed one becomes a UserError).
 *
 * Files, under <state dir>/kind/<cluster>/ (mode 0700): `kubeconfig` (our own: the user's ~/.kube/config and
 * current context are never touched; every kubectl call names `--kubeconfig` and `--context kind-<cluster>`),
 * `kind-cluster.yaml` and `manifests/` (the last render), `cluster.json` (the port mappings the cluster was created
 * with: kind fixes them at creation, so a later `up` that needs others must stop and say so).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, UserError, usageError, type ErrorCode } from '../../lib/errors.js';
import { CommandFailed, stderrTail, type Exec, type RunOptions, type RunResult } from '../../lib/exec.js';
import type { DockerApi, Engine } from '../../lib/docker.js';
import { packageRoot as defaultPackageRoot } from '../../lib/paths.js';
import { stateDir } from '../../lib/state.js';
import { defaultSources, type SourceDirs } from '../../render/common.js';
import type { RuntimeDeps } from '../runtime.js';
import { NAMESPACE_LABEL } from '../../stack/model.js';
import { PART_OF_LABEL, type KubeList } from './kube-state.js';

export const DEFAULT_CLUSTER = 'mop-sandbox';
export const KIND_INSTALL = 'install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation';
export const KUBECTL_INSTALL = 'install kubectl: https://kubernetes.io/docs/tasks/tools/#kubectl';
export const DOCKER_INSTALL = 'install Docker: https://docs.docker.com/get-docker/';

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

export const kindStateRoot = (env: NodeJS.ProcessEnv) => join(stateDir(env), 'kind');

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


/** The kind runtime's context: what the constructor of the old class held, passed to every stage function. */
export interface KindContext {
  readonly exec: Exec;
  readonly env: NodeJS.ProcessEnv;
  readonly platform: NodeJS.Platform;
  /** The cluster name. */
  readonly project: string;
  readonly paths: KindPaths;
  /** `kind-<cluster>`: the context kind writes into our kubeconfig. */
  readonly context: string;
  readonly root: string;
  readonly sources: SourceDirs;
  readonly pollMs: number;
  readonly now: () => number;
  readonly log: (line: string) => void;
  readonly readSysctl: (key: string) => Promise<string | undefined>;
  /** Injected Docker client (tests). */
  readonly docker?: DockerApi;
  /** The engine preflight found (up reads its cgroup version). */
  engine?: Engine;
}

export function createKindContext(deps: KindDeps): KindContext {
  const project = clusterName(deps.env);
  return {
    exec: deps.exec,
    env: deps.env,
    platform: deps.platform ?? process.platform,
    project,
    paths: kindPaths(deps.env, project),
    context: `kind-${project}`,
    root: deps.packageRoot ?? defaultPackageRoot,
    sources: deps.sources ?? defaultSources(),
    pollMs: deps.pollMs ?? 2000,
    now: deps.now ?? Date.now,
    log: deps.log ?? (() => undefined),
    readSysctl:
      deps.readSysctl ??
      (async (key) => {
        try {
          return (await readFile(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8')).trim();
        } catch {
          return undefined;
        }
      }),
    docker: deps.docker,
  };
}

export const parseList = (text: string): KubeList => {
  try {
    return JSON.parse(text) as KubeList;
  } catch {
    return {};
  }
};

/** How a person runs kubectl against this cluster without touching their own config. */
export function kubectlHint(cx: KindContext, namespace?: string): string {
  return `kubectl --kubeconfig ${cx.paths.kubeconfig} --context ${cx.context}${namespace ? ` -n ${namespace}` : ''}`;
}

export function run(cx: KindContext, file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return cx.exec.run(file, args, { env: cx.env, ...opts });
}

export function kind(cx: KindContext, args: string[], opts: RunOptions = {}) {
  return run(cx, 'kind', args, opts);
}

export function kubectl(cx: KindContext, args: string[], opts: RunOptions = {}) {
  return run(cx, 'kubectl', ['--kubeconfig', cx.paths.kubeconfig, '--context', cx.context, ...args], opts);
}

export function toolMissing(tool: 'kind' | 'kubectl' | 'docker'): UserError {
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
export function explain(e: unknown, what: string, next: string, code: ErrorCode, exitCode: UserError['exitCode'] = ExitCode.failure): unknown {
  if (!(e instanceof CommandFailed)) return e;
  const tool = e.command.split(' ')[0];
  if (e.exitCode === 127 && (tool === 'kind' || tool === 'kubectl' || tool === 'docker')) return toolMissing(tool);
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
export async function clusters(cx: KindContext, must: boolean): Promise<string[]> {
  const r = await kind(cx, ['get', 'clusters'], { allowFail: true });
  if (r.exitCode === 127) {
    if (must) throw toolMissing('kind');
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

export async function clusterExists(cx: KindContext, must = false): Promise<boolean> {
  return (await clusters(cx, must)).includes(cx.project);
}

/** Writes our kubeconfig when it is missing (the cluster was made elsewhere, or the state dir was cleaned). */
export async function ensureKubeconfig(cx: KindContext, force = false): Promise<void> {
  if (!force && existsSync(cx.paths.kubeconfig)) return;
  await mkdir(cx.paths.dir, { recursive: true, mode: 0o700 });
  try {
    await kind(cx, ['export', 'kubeconfig', '--name', cx.project, '--kubeconfig', cx.paths.kubeconfig]);
  } catch (e) {
    throw explain(e, `cannot write a kubeconfig for the kind cluster ${cx.project}`, 'check `kind get clusters` and `docker ps`; `mop-sandbox down --purge` deletes the cluster', 'KIND_KUBECONFIG');
  }
}

export async function readRecord(cx: KindContext): Promise<KindRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(cx.paths.record, 'utf8')) as KindRecord;
    return r.cluster === cx.project && Array.isArray(r.portMappings) ? r : undefined;
  } catch {
    return undefined;
  }
}

export async function writeRecord(cx: KindContext, r: KindRecord): Promise<void> {
  await mkdir(cx.paths.dir, { recursive: true, mode: 0o700 });
  await writeFile(cx.paths.record, JSON.stringify(r, null, 2) + '\n', { mode: 0o600 });
}

/** Our namespaces (labelled by the renderer) that exist in the cluster. */
/**
 * The namespaces a component of the stack in `ns` has of its own (OBI's), as they exist in the cluster: labelled
 * with `ns` by the renderer. Found in the cluster rather than the render, so a component turned off is still seen.
 */
export async function ownedNamespaces(cx: KindContext, ns: string, signal?: AbortSignal): Promise<string[]> {
  const r = await kubectl(cx, ['get', 'namespaces', '-l', `${PART_OF_LABEL},${NAMESPACE_LABEL}=${ns}`, '-o', 'name'], { allowFail: true, signal });
  if (r.exitCode !== 0) return [];
  return r.stdout.split('\n').map((s) => s.trim().replace(/^namespace\//, '')).filter((n) => n !== '' && n !== ns);
}

/** `kubectl get <what> -n <ns> <extra> -o json` in each namespace, the items merged; the first failure instead, if any. */
export async function getInEach(
  cx: KindContext,
  namespaces: string[],
  what: string,
  extra: string[] = [],
  opts: { signal?: AbortSignal } = {},
): Promise<{ list?: KubeList; failed?: RunResult }> {
  const items: NonNullable<KubeList['items']> = [];
  for (const ns of namespaces) {
    const r = await kubectl(cx, ['get', what, '-n', ns, ...extra, '-o', 'json'], { allowFail: true, signal: opts.signal });
    if (r.exitCode !== 0) return { failed: r };
    try {
      items.push(...((JSON.parse(r.stdout) as KubeList).items ?? []));
    } catch {
      return { failed: { ...r, exitCode: r.exitCode || 1, stderr: `kubectl printed no JSON list: ${r.stdout.slice(0, 80)}` } };
    }
  }
  return { list: { items } };
}

export async function ourNamespaces(cx: KindContext): Promise<string[]> {
  const r = await kubectl(cx, ['get', 'namespaces', '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true });
  if (r.exitCode !== 0) return [];
  return r.stdout.split('\n').map((s) => s.trim().replace(/^namespace\//, '')).filter(Boolean);
}
