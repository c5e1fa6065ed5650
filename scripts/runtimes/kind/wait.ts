/**
 * The wait stage of the kind runtime: one `kubectl get` snapshot per tick of every workload and pod of ours,
 * judged like `kubectl rollout status`, failing fast on crash loops and unpullable images.
 */
import { stderrTail } from '../../lib/exec.js';
import type { KubeObject } from '../../render/kubernetes.js';
import { type ComponentName, kubernetesNamespaces, type Stack } from '../../stack/model.js';
import { NotReady, type Observation, waitForReady } from '../readiness.js';
import type { ReadyTimes, UpContext } from '../runtime.js';
import { getInEach, type KindContext } from './context.js';
import { notReadyError } from './diagnose.js';
import { describeProblem, isPodStarted, itemsOfKind, type KubeList, PART_OF_LABEL, podsOf, rolloutStatus, worstProblem } from './kube-state.js';
import { type WorkloadRef, workloadsOf } from './start.js';

export const DEFAULT_READY_TIMEOUT_MS = 180_000;

/** One snapshot per tick of every workload and pod of ours, judged like `kubectl rollout status`. */
export async function waitReady(cx: KindContext, stack: Stack, objects: KubeObject[], ctx: UpContext, startedAt: number): Promise<ReadyTimes> {
  // OBI has a namespace of its own: every namespace of the stack, one snapshot.
  const namespaces = kubernetesNamespaces(stack);
  const workloads = workloadsOf(objects);
  const names = [...new Set(workloads.map((w) => w.component))];
  const timeoutMs = ctx.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const steps = new Map(ctx.out.group(names).map((s, i) => [names[i], s]));
  const done = new Set<ComponentName>();
  const observe = async (pending: ComponentName[]): Promise<Map<ComponentName, Observation>> => {
    const result = new Map<ComponentName, Observation>();
    const { list, failed } = await getInEach(cx, namespaces, 'deployments,statefulsets,daemonsets,jobs,pods', ['-l', PART_OF_LABEL], { signal: ctx.signal });
    for (const name of pending) {
      if (!list) {
        result.set(name, { kind: 'waiting', detail: `the API server did not answer (${stderrTail(failed?.stderr ?? '', 1) || `exit ${failed?.exitCode}`})` });
        continue;
      }
      result.set(name, observeComponent(list, workloads.filter((w) => w.component === name)));
    }
    return result;
  };
  try {
    return await waitForReady({
      components: names,
      observe,
      startedAt,
      timeoutMs,
      intervalMs: cx.pollMs,
      signal: ctx.signal,
      now: cx.now,
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
    if (e instanceof NotReady && !ctx.signal.aborted) throw await notReadyError(cx, e, stack, timeoutMs);
    throw e;
  }
}

export function observeComponent(list: KubeList, refs: WorkloadRef[]): Observation {
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
