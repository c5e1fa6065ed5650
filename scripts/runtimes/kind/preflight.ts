/**
 * kind-specific preflight decisions, pure over what `docker info` and the render say:
 *  - the engine's cgroup hierarchy (Kubernetes 1.35's kubelet refuses cgroup v1 unless told otherwise);
 *  - what the cluster will really ask the scheduler for (every pod's requests × replicas, init containers, and
 *    kind's own control plane) against the CPUs and memory the engine has, with the profile that does fit.
 */
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import type { Engine, EngineProduct } from '../../lib/docker.js';
import { parseBytes } from '../preflight.js';
import type { KubeObject } from '../../render/kubernetes.js';
import { profileNames, type ProfileName } from '../../stack/profiles.js';
import type { Stack } from '../../stack/model.js';
import type { PreflightCheck } from '../runtime.js';

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

/** How to give this engine more CPUs and memory. */
export function engineResourcesFix(product: EngineProduct): string {
  switch (product) {
    case 'Colima':
      return 'restart Colima bigger: `colima stop && colima start --cpu 4 --memory 8`';
    case 'Docker Desktop':
      return 'give Docker Desktop more CPUs and memory (Settings → Resources)';
    case 'Podman':
      return 'give the Podman machine more: `podman machine stop && podman machine set --cpus 4 --memory 8192 && podman machine start`';
    case 'OrbStack':
      return 'raise OrbStack\'s CPU and memory limits (Settings → System)';
    case 'Rancher Desktop':
      return 'give Rancher Desktop more CPUs and memory (Preferences → Virtual Machine)';
    default:
      return 'run on a machine with more CPUs and memory';
  }
}

export interface CapacityInput {
  stack: Stack;
  engine: Pick<Engine, 'cpus' | 'memTotal' | 'product'>;
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
  const fix = [fitting.length ? `use \`--profile ${fitting[0].profile}\` (it fits this engine)` : undefined, engineResourcesFix(engine.product)].filter(Boolean).join(', or ');
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
