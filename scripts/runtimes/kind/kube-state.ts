/**
 * Reading the cluster's answers (`kubectl get ... -o json`): whether a workload has rolled out (the same rules as
 * `kubectl rollout status`), what is wrong with a pod, and each component's row for `status`.
 * Pure functions over API objects, so every decision is unit-tested without a cluster.
 */
import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import type { ComponentStatus } from '../runtime.js';
import { COMPONENT_LABEL, OWNER_LABEL } from '../../stack/model.js';

/** Every object and pod of a component carries it (scripts/render/kubernetes.ts). */
export const NAME_LABEL = COMPONENT_LABEL;
/** Everything the renderer makes carries it, the Namespace included: the selector for what is ours. */
export const PART_OF_LABEL = `${OWNER_LABEL.key}=${OWNER_LABEL.value}`;

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
export const workloadKinds: WorkloadKind[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'];

export interface KubeList {
  items?: { kind?: string; metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string } }[];
}

/** Restarts in CrashLoopBackOff after which `up` stops waiting (a component may restart once or twice while its peers start). */
export const CRASH_RESTART_LIMIT = 3;

/** Waiting reasons that no amount of waiting fixes. */
const hopelessReasons = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError']);
/** Pull failures that are definitive (a slow or flaky network is left to the timeout). */
export const definitivePull = /not found|manifest unknown|unauthorized|denied|no such host|does not exist|insufficient_scope/i;

export interface PodProblem {
  pod: string;
  container?: string;
  /** CrashLoopBackOff, ImagePullBackOff, Unschedulable, Init:wait-for-buckets, NotReady, ... */
  reason: string;
  message?: string;
  restarts: number;
  /** The logs worth reading are the previous container's (it crashed and was restarted). */
  previous: boolean;
  /** Waiting longer will not help. */
  fatal: boolean;
  image?: string;
}

export const itemsOfKind = <T>(list: KubeList | undefined, kind: string): T[] =>
  (list?.items ?? []).filter((o) => o.kind === kind) as T[];

/** A component's live pods (terminating ones are leaving and say nothing about the new state). */
export function podsOf(list: KubeList | undefined, component: string): Pod[] {
  // `kubectl get pods` items carry kind: Pod; be lenient with a bare pod list all the same.
  const pods = (list?.items ?? []).filter((o) => !o.kind || o.kind === 'Pod') as Pod[];
  return pods.filter((p) => p.metadata?.labels?.[NAME_LABEL] === component && !p.metadata?.deletionTimestamp);
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The main container runs (the pod is past its init containers), so a timeout is its own fault. */
export function isPodStarted(pod: Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((c) => c.state?.running || (c.restartCount ?? 0) > 0);
}

function statusProblem(pod: string, cs: ContainerStatus, init: boolean): PodProblem | undefined {
  const waiting = cs.state?.waiting;
  const restarts = cs.restartCount ?? 0;
  const base = { pod, container: cs.name, restarts, image: cs.image, message: waiting?.message };
  if (waiting?.reason === 'CrashLoopBackOff') return { ...base, reason: 'CrashLoopBackOff', previous: true, fatal: restarts >= CRASH_RESTART_LIMIT };
  if (waiting?.reason && hopelessReasons.has(waiting.reason)) return { ...base, reason: waiting.reason, previous: false, fatal: true };
  if (waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff') {
    return { ...base, reason: waiting.reason, previous: false, fatal: definitivePull.test(waiting.message ?? '') };
  }
  const term = cs.state?.terminated;
  if (term && term.exitCode !== 0) {
    return { ...base, reason: term.reason && term.reason !== 'Error' ? term.reason : `exited with code ${term.exitCode}`, message: term.message, previous: false, fatal: false };
  }
  if (init && cs.state?.running) return { ...base, reason: `Init:${cs.name}`, message: 'init container running', previous: false, fatal: false };
  return undefined;
}

/** The most telling problem of one pod, or undefined when it is running and ready (or has succeeded). */
export function podProblem(pod: Pod): PodProblem | undefined {
  const name = pod.metadata?.name ?? '?';
  const phase = pod.status?.phase;
  if (phase === 'Succeeded') return undefined;
  for (const cs of pod.status?.initContainerStatuses ?? []) {
    if (cs.state?.terminated?.exitCode === 0) continue;
    const p = statusProblem(name, cs, true);
    if (p) return p;
  }
  for (const cs of pod.status?.containerStatuses ?? []) {
    const p = statusProblem(name, cs, false);
    if (p) return p;
  }
  if (phase === 'Failed') return { pod: name, reason: pod.status?.reason ?? 'Failed', message: pod.status?.message, restarts: 0, previous: false, fatal: false };
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False') {
    return { pod: name, reason: scheduled.reason ?? 'Unschedulable', message: scheduled.message, restarts: 0, previous: false, fatal: false };
  }
  if (phase === 'Pending' || !phase) {
    const cs = pod.status?.containerStatuses?.find((c) => c.state?.waiting);
    return { pod: name, container: cs?.name, reason: cs?.state?.waiting?.reason ?? 'Pending', message: cs?.state?.waiting?.message, restarts: 0, previous: false, fatal: false, image: cs?.image };
  }
  if (!isPodReady(pod)) {
    const cs = pod.status?.containerStatuses?.[0];
    return { pod: name, container: cs?.name, reason: 'NotReady', message: 'running; readiness probe not passing yet', restarts: cs?.restartCount ?? 0, previous: false, fatal: false };
  }
  return undefined;
}

/** The worst problem among a component's pods: fatal first, then the most restarts. */
export function worstProblem(pods: Pod[]): PodProblem | undefined {
  const problems = pods.map(podProblem).filter((p): p is PodProblem => p !== undefined);
  problems.sort((a, b) => Number(b.fatal) - Number(a.fatal) || b.restarts - a.restarts);
  return problems[0];
}

export const describeProblem = (p: PodProblem): string =>
  `${p.reason}${p.message ? ` (${p.message.split('\n')[0]})` : ''}${p.restarts ? `, ${p.restarts} restart${p.restarts === 1 ? '' : 's'}` : ''}`;

/** A Job that gave up (backoffLimit reached or deadline exceeded). */
export function jobFailure(job: Job | undefined): string | undefined {
  const failed = job?.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  return failed ? `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}` : undefined;
}

export function jobComplete(job: Job | undefined): boolean {
  return job?.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True') ?? false;
}

/**
 * Whether a workload has rolled out, by the rules `kubectl rollout status` applies
 * (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go): `{ done: true }` or what it is waiting for.
 */
export function rolloutStatus(obj: Deployment | StatefulSet | DaemonSet | Job): { done: boolean; detail: string; failed?: string } {
  const generation = obj.metadata?.generation ?? 0;
  const observed = (obj.status && 'observedGeneration' in obj.status ? obj.status.observedGeneration : undefined) ?? 0;
  switch (obj.kind) {
    case 'Job': {
      const job = obj as Job;
      const failed = jobFailure(job);
      if (failed) return { done: false, detail: failed, failed };
      return jobComplete(job) ? { done: true, detail: 'complete' } : { done: false, detail: `${job.status?.active ?? 0} active, ${job.status?.failed ?? 0} failed` };
    }
    case 'Deployment': {
      const d = obj as Deployment;
      if (observed < generation || !d.status) return { done: false, detail: 'waiting for the rollout to be observed' };
      const stalled = d.status.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
      if (stalled) return { done: false, detail: 'rollout exceeded its progress deadline', failed: `deployment ${d.metadata?.name} exceeded its progress deadline` };
      const want = d.spec?.replicas ?? 1;
      const updated = d.status.updatedReplicas ?? 0;
      if (updated < want) return { done: false, detail: `${updated} of ${want} replicas updated` };
      if ((d.status.replicas ?? 0) > updated) return { done: false, detail: `${(d.status.replicas ?? 0) - updated} old replicas pending termination` };
      const available = d.status.availableReplicas ?? 0;
      if (available < updated) return { done: false, detail: `${available} of ${updated} replicas available` };
      return { done: true, detail: `${available}/${want} ready` };
    }
    case 'StatefulSet': {
      const s = obj as StatefulSet;
      if (!observed || observed < generation || !s.status) return { done: false, detail: 'waiting for the rollout to be observed' };
      const want = s.spec?.replicas ?? 1;
      const ready = s.status.readyReplicas ?? 0;
      if (ready < want) return { done: false, detail: `${ready} of ${want} pods ready` };
      if (s.status.updateRevision && s.status.currentRevision !== s.status.updateRevision) {
        return { done: false, detail: `${s.status.updatedReplicas ?? 0} of ${want} pods updated` };
      }
      return { done: true, detail: `${ready}/${want} ready` };
    }
    case 'DaemonSet': {
      const d = obj as DaemonSet;
      if (observed < generation || !d.status) return { done: false, detail: 'waiting for the rollout to be observed' };
      const want = d.status.desiredNumberScheduled ?? 0;
      if ((d.status.updatedNumberScheduled ?? 0) < want) return { done: false, detail: `${d.status.updatedNumberScheduled ?? 0} of ${want} pods updated` };
      if ((d.status.numberAvailable ?? 0) < want) return { done: false, detail: `${d.status.numberAvailable ?? 0} of ${want} pods available` };
      return { done: true, detail: `${want}/${want} ready` };
    }
  }
  return { done: false, detail: `unknown workload kind ${obj.kind}` };
}

/** One component's row for `status`, from its pods (one-shot components: the newest pod decides). */
export function componentState(pods: Pod[], oneShot: boolean): Pick<ComponentStatus, 'state' | 'health' | 'detail' | 'exitCode'> {
  if (pods.length === 0) return { state: 'missing', health: 'none', detail: 'no pods' };
  if (oneShot && pods.some((p) => p.status?.phase === 'Succeeded')) return { state: 'completed', health: 'none', detail: 'completed', exitCode: 0 };
  const restarts = pods.reduce((n, p) => n + (p.status?.containerStatuses ?? []).reduce((m, c) => m + (c.restartCount ?? 0), 0), 0);
  const ready = pods.filter(isPodReady).length;
  const counts = `${ready}/${pods.length} ready${restarts ? `, ${restarts} restart${restarts === 1 ? '' : 's'}` : ''}`;
  const problem = worstProblem(pods);
  if (!problem) return { state: 'running', health: 'healthy', detail: counts };
  const detail = `${counts}; ${problem.pod}: ${describeProblem(problem)}`;
  if (problem.reason === 'CrashLoopBackOff') return { state: 'restarting', health: 'unhealthy', detail };
  if (oneShot && pods.every((p) => p.status?.phase === 'Failed')) return { state: 'exited', health: 'unhealthy', detail };
  if (problem.fatal || /^exited|OOMKilled|Error/.test(problem.reason)) return { state: ready ? 'running' : 'exited', health: 'unhealthy', detail };
  if (problem.reason === 'NotReady') return { state: 'running', health: ready ? 'unhealthy' : 'starting', detail };
  return { state: 'starting', health: 'starting', detail };
}
