/**
 * The kind runtime's preflight: kind, kubectl, Docker, ports, configs and inotify limits, and kind-specific
 * decisions, pure over what `docker info` and the render say:
 *  - the engine's cgroup hierarchy (Kubernetes 1.35's kubelet refuses cgroup v1 unless told otherwise);
 *  - what the cluster will really ask the scheduler for (every pod's requests × replicas, init containers, and
 *    kind's own control plane) against the CPUs and memory the engine has, with the profile that does fit.
 */
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import type { Engine } from '../../lib/docker.js';
import { stderrTail } from '../../lib/exec.js';
import { checkConfigFiles, checkDocker, checkLoopbackIsolation, checkPorts, parseBytes } from '../preflight.js';
import { kubernetesObjects, type KubeObject } from '../../render/kubernetes.js';
import { profileNames, type ProfileName } from '../../stack/profiles.js';
import { buildStack, type Stack } from '../../stack/model.js';
import { images } from '../../stack/versions.js';
import type { PreflightCheck } from '../runtime.js';
import { clusterExists, kind, KIND_INSTALL, KUBECTL_INSTALL, run, type KindContext } from './context.js';
import { engineResourcesFix } from '../engine-resources.js';

/**
 * What kind's control plane asks the scheduler for on its single node (kind's node image at the pinned release):
 * kube-apiserver 250m, kube-controller-manager 200m, kube-scheduler 100m and etcd 100m/100Mi (kubeadm's static pod
 * manifests); CoreDNS ×2 at 100m/70Mi (kubeadm's CoreDNS Deployment); kindnet 100m/50Mi (kind `pkg/build/nodeimage/
 * const_cni.go`). kube-proxy and local-path-provisioner request nothing.
 */
export const KIND_CONTROL_PLANE = { cpuMilli: 950, memoryBytes: (100 + 2 * 70 + 50) * 1024 ** 2 } as const;

export const CGROUP_V2_FIX =
  'switch the host to cgroup v2: add `systemd.unified_cgroup_hierarchy=1` to the kernel command line ' +
  '(e.g. `sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1`, or GRUB_CMDLINE_LINUX in /etc/default/grub and `sudo update-grub`), then reboot; ' +
  'or use the compose runtime: `mop-sandbox up --runtime compose`';

/** "250m" | "1" | "0.5" -> millicores. */
export function cpuMilli(q: string | number | undefined): number {
  if (q === undefined) return 0;
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(q).trim());
  if (!m) return NaN;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

export interface PodRequests {
  component: string;
  kind: string;
  replicas: number;
  cpuMilli: number;
  memoryBytes: number;
}

const containerRequests = (cs: Container[] | undefined) =>
  (cs ?? []).map((c) => ({ cpu: cpuMilli(c.resources?.requests?.cpu), mem: c.resources?.requests?.memory ? parseBytes(String(c.resources.requests.memory)) : 0 }));

/** A pod's effective request, as the scheduler computes it: max(sum of containers, largest init container). */
function podRequest(spec: PodSpec): { cpuMilli: number; memoryBytes: number } {
  const main = containerRequests(spec.containers);
  const init = containerRequests(spec.initContainers);
  const sum = (xs: { cpu: number; mem: number }[], k: 'cpu' | 'mem') => xs.reduce((a, x) => a + x[k], 0);
  const max = (xs: { cpu: number; mem: number }[], k: 'cpu' | 'mem') => xs.reduce((a, x) => Math.max(a, x[k]), 0);
  return { cpuMilli: Math.max(sum(main, 'cpu'), max(init, 'cpu')), memoryBytes: Math.max(sum(main, 'mem'), max(init, 'mem')) };
}

/** Every workload's pods of a render: what the single kind node must hold (a DaemonSet: one pod; a Job: one while it runs). */
export function podRequests(objects: KubeObject[]): PodRequests[] {
  const out: PodRequests[] = [];
  for (const o of objects) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind ?? '')) continue;
    const spec = (o as { spec?: { replicas?: number; template?: { spec?: PodSpec } } }).spec;
    if (!spec?.template?.spec) continue;
    const replicas = o.kind === 'Deployment' || o.kind === 'StatefulSet' ? (spec.replicas ?? 1) : 1;
    out.push({ component: o.metadata?.labels?.['app.kubernetes.io/name'] ?? o.metadata?.name ?? '?', kind: o.kind!, replicas, ...podRequest(spec.template.spec) });
  }
  return out;
}

export interface ClusterNeeds {
  /** The stack's pods, replicas included. */
  stack: { cpuMilli: number; memoryBytes: number };
  /** Stack plus kind's control plane: what the node's allocatable must cover. */
  total: { cpuMilli: number; memoryBytes: number };
}

export function clusterNeeds(objects: KubeObject[]): ClusterNeeds {
  const pods = podRequests(objects);
  const stack = {
    cpuMilli: pods.reduce((a, p) => a + p.cpuMilli * p.replicas, 0),
    memoryBytes: pods.reduce((a, p) => a + p.memoryBytes * p.replicas, 0),
  };
  return { stack, total: { cpuMilli: stack.cpuMilli + KIND_CONTROL_PLANE.cpuMilli, memoryBytes: stack.memoryBytes + KIND_CONTROL_PLANE.memoryBytes } };
}

const cpus = (milli: number) => `${(milli / 1000).toFixed(2).replace(/\.?0+$/, '')} CPU${milli === 1000 ? '' : 's'}`;
const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export interface CapacityInput {
  stack: Stack;
  engine: Pick<Engine, 'cpus' | 'memTotal' | 'product' | 'kernel'>;
  platform: NodeJS.Platform;
  /** The render of this stack. */
  objects: KubeObject[];
  /** Renders of the other profiles, to name one that fits (same options otherwise). */
  alternatives?: { profile: ProfileName; objects: KubeObject[] }[];
}

/**
 * Two checks, `cpu` and `memory`: the requests of every pod (× replicas) plus kind's control plane against the
 * engine's CPUs and memory. Over either, the scheduler leaves a pod Pending ("Insufficient cpu") forever; that is
 * an error, with the profile that fits and how to grow the engine.
 */
export function checkKindCapacity(input: CapacityInput): PreflightCheck[] {
  const { stack, engine } = input;
  const needs = clusterNeeds(input.objects);
  const name = stack.profile.name;
  const have = { cpuMilli: engine.cpus * 1000, memoryBytes: engine.memTotal };
  const fits = (n: ClusterNeeds) => (!engine.cpus || n.total.cpuMilli <= have.cpuMilli) && (!engine.memTotal || n.total.memoryBytes <= have.memoryBytes);
  const fitting = (input.alternatives ?? []).filter((a) => a.profile !== name && fits(clusterNeeds(a.objects)));
  // What this profile asks for, plus 1 GiB for the VM's own system (as the compose memory check recommends).
  const ask = { cpus: Math.ceil(needs.total.cpuMilli / 1000), gib: Math.ceil(needs.total.memoryBytes / 1024 ** 3) + 1 };
  const fix = [fitting.length ? `use \`--profile ${fitting[0].profile}\` (it fits this engine)` : undefined, engineResourcesFix(engine, input.platform, ask)].filter(Boolean).join(', or ');
  const breakdown = `the ${name} profile's pods ${cpus(needs.stack.cpuMilli)} / ${gib(needs.stack.memoryBytes)} + kind's control plane ${cpus(KIND_CONTROL_PLANE.cpuMilli)} / ${gib(KIND_CONTROL_PLANE.memoryBytes)}`;
  /** One resource's check: unknown (the engine does not say), short (pods would never be scheduled), or enough. */
  const resource = (id: 'cpu' | 'memory', what: string, noun: string, haveAmount: number, needAmount: number, show: (n: number) => string): PreflightCheck => {
    const title = `${what} for the ${name} profile on kind`;
    if (!haveAmount) return { id, title, ok: true, severity: 'warn', detail: `the engine does not report its ${noun}` };
    if (needAmount > haveAmount) {
      return {
        id,
        title,
        ok: false,
        severity: 'error',
        detail: `the engine has ${show(haveAmount)}; the cluster requests ${show(needAmount)} (${breakdown}), so some pods would never be scheduled`,
        fix,
      };
    }
    return { id, title, ok: true, severity: 'error', detail: `${show(haveAmount)} available, ${show(needAmount)} requested (control plane included)` };
  };
  return [
    resource('cpu', 'CPUs', 'CPUs', engine.cpus ? have.cpuMilli : 0, needs.total.cpuMilli, cpus),
    resource('memory', 'memory', 'memory', engine.memTotal ? have.memoryBytes : 0, needs.total.memoryBytes, gib),
  ];
}

/** The profiles to offer instead of `current`, in order (lighter first). */
export const otherProfiles = (current: ProfileName): ProfileName[] => (['dev', ...profileNames] as ProfileName[]).filter((p, i, all) => p !== current && all.indexOf(p) === i);

/**
 * cgroup v1: kind's node shares the host's hierarchy, and Kubernetes 1.35's kubelet stops on v1 unless its
 * configuration says `failCgroupV1: false`. `up` writes that into the kind cluster config (a warning, not an
 * error: it works, but v1 support is deprecated and goes away in a later Kubernetes).
 */
export function checkCgroup(engine: Pick<Engine, 'cgroupVersion'>, kubernetesVersion: string): PreflightCheck {
  const title = 'cgroup version for the kind node';
  if (engine.cgroupVersion === '1') {
    return {
      id: 'cgroup',
      title,
      ok: false,
      severity: 'warn',
      detail:
        `the Docker engine runs on cgroup v1; the kubelet of Kubernetes ${kubernetesVersion} refuses cgroup v1 by default, ` +
        'so the kind cluster is created with `failCgroupV1: false` (deprecated: a later Kubernetes drops cgroup v1 entirely)',
      fix: CGROUP_V2_FIX,
    };
  }
  if (engine.cgroupVersion === '2') return { id: 'cgroup', title, ok: true, severity: 'warn', detail: 'cgroup v2' };
  return { id: 'cgroup', title, ok: true, severity: 'warn', detail: 'the engine does not report its cgroup version (assuming v2)' };
}

/** The kind release that published the node image pinned in versions.ts (images.kindNode). */
export const KIND_VERSION = '0.33.0';
/** kind's known issue "Pod errors due to too many open files": below these, pods fail in odd ways. */
export const INOTIFY_MIN = { 'fs.inotify.max_user_watches': 524288, 'fs.inotify.max_user_instances': 512 } as const;
export const INOTIFY_FIX =
  'sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512 ' +
  '(to keep it after a reboot, put both settings in /etc/sysctl.d/99-kind.conf)';


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


function versionAtLeast(found: string, min: string): boolean {
  const a = found.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

export async function preflight(cx: KindContext, stack: Stack): Promise<PreflightCheck[]> {
  const [kind, kubectl, docker, inotify] = await Promise.all([
    checkKind(cx),
    checkKubectl(cx),
    checkDocker({ exec: cx.exec, env: cx.env, platform: cx.platform, docker: cx.docker }),
    checkInotify(cx),
  ]);
  const checks: PreflightCheck[] = [...kind.checks, kubectl, docker.check];
  if (docker.engine) {
    cx.engine = docker.engine;
    checks.push(checkCgroup(docker.engine, KUBERNETES_VERSION), ...checkCapacity(cx, stack, docker.engine), checkLoopbackIsolation(docker.engine));
    if (docker.engine.product === 'Podman') checks.push(PODMAN_NOTE);
  }
  if (kind.ok && (await clusterExists(cx))) {
    // The cluster's node container holds these ports (bound when it was created); `up` checks they match.
    checks.push({
      id: 'ports',
      title: 'host ports free',
      ok: true,
      severity: 'error',
      detail: `held by the existing kind cluster ${cx.project} (its port mappings were fixed when it was created)`,
    });
  } else {
    checks.push(...(await checkPorts(stack, { exec: cx.exec, docker: docker.docker, platform: cx.platform })));
  }
  checks.push(checkConfigFiles(stack, 'kind', cx.sources));
  checks.push(...inotify);
  return checks;
}

/** CPU and memory: what the render asks the scheduler for (replicas, init containers, control plane) against the engine. */
export function checkCapacity(cx: KindContext, stack: Stack, engine: Engine): PreflightCheck[] {
  let objects: KubeObject[];
  try {
    objects = kubernetesObjects(stack, { sources: cx.sources });
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
      return [{ profile, objects: kubernetesObjects(other, { sources: cx.sources }) }];
    } catch {
      return [];
    }
  });
  return checkKindCapacity({ stack, engine, platform: cx.platform, objects, alternatives });
}

export async function checkKind(cx: KindContext): Promise<{ ok: boolean; checks: PreflightCheck[] }> {
  const title = 'kind installed';
  const r = await kind(cx, ['version'], { allowFail: true, timeoutMs: 15_000 });
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

export async function checkKubectl(cx: KindContext): Promise<PreflightCheck> {
  const title = 'kubectl installed';
  const r = await run(cx, 'kubectl', ['version', '--client', '-o', 'json'], { allowFail: true, timeoutMs: 15_000 });
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
export async function checkInotify(cx: KindContext): Promise<PreflightCheck[]> {
  if (cx.platform !== 'linux') return [];
  const found: [string, number, number][] = [];
  for (const [key, min] of Object.entries(INOTIFY_MIN)) {
    const v = Number(await cx.readSysctl(key));
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
