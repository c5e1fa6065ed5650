/** Reading the cluster's answers (scripts/runtimes/kind/kube-state.ts): pure decisions over API objects. */
import { describe, expect, it } from 'vitest';
import { componentState, podProblem, rolloutStatus, CRASH_RESTART_LIMIT } from '../../../scripts/runtimes/kind/kube-state.js';
import { pod, readyPod, crashingPod } from './world.js';

describe('kind runtime decisions (pure)', () => {
  it('rollout status follows kubectl: observed generation, updated, available', () => {
    const dep = (status: object, generation = 2) => ({ kind: 'Deployment', metadata: { name: 'g', generation }, spec: { replicas: 2 }, status }) as any;
    expect(rolloutStatus(dep({ observedGeneration: 1 }))).toMatchObject({ done: false, detail: 'waiting for the rollout to be observed' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 1, replicas: 2 }))).toMatchObject({ done: false, detail: '1 of 2 replicas updated' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }))).toMatchObject({ detail: '1 old replicas pending termination' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }))).toMatchObject({ done: false });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }))).toMatchObject({ done: true });
    const job = (conditions: object[]) => ({ kind: 'Job', metadata: { name: 'buckets' }, status: { conditions } }) as any;
    expect(rolloutStatus(job([{ type: 'Complete', status: 'True' }]))).toMatchObject({ done: true });
    expect(rolloutStatus(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]))).toMatchObject({ done: false, failed: 'BackoffLimitExceeded' });
    const sts = (status: object) => ({ kind: 'StatefulSet', metadata: { name: 't', generation: 1 }, spec: { replicas: 1 }, status }) as any;
    expect(rolloutStatus(sts({ observedGeneration: 1, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' }))).toMatchObject({ done: false });
    expect(rolloutStatus(sts({ observedGeneration: 1, readyReplicas: 1, currentRevision: 'b', updateRevision: 'b' }))).toMatchObject({ done: true });
  });

  it('pod problems: a young crash loop and a slow pull are worth waiting for; a missing image and a long crash loop are not', () => {
    expect(podProblem(crashingPod('t', 'tempo', CRASH_RESTART_LIMIT - 1))).toMatchObject({ reason: 'CrashLoopBackOff', fatal: false, previous: true });
    expect(podProblem(crashingPod('t', 'tempo', CRASH_RESTART_LIMIT))).toMatchObject({ fatal: true });
    const pull = (message: string) =>
      podProblem(pod('g', 'grafana', { phase: 'Pending', containerStatuses: [{ name: 'grafana', ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message } } }] }));
    expect(pull('Back-off pulling image "i": manifest unknown')).toMatchObject({ fatal: true });
    expect(pull('Back-off pulling image "i": dial tcp: i/o timeout')).toMatchObject({ fatal: false });
    expect(podProblem(readyPod('g', 'grafana'))).toBeUndefined();
    const unschedulable = pod('l', 'loki', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }] });
    expect(podProblem(unschedulable)).toMatchObject({ reason: 'Unschedulable', fatal: false });
  });

  it('status rows: completed job, crash loop, starting, healthy', () => {
    expect(componentState([pod('b', 'buckets', { phase: 'Succeeded' })], true)).toMatchObject({ state: 'completed' });
    expect(componentState([crashingPod('t', 'tempo', 4)], false)).toMatchObject({ state: 'restarting', health: 'unhealthy' });
    expect(componentState([pod('t', 'tempo', { phase: 'Pending' })], false)).toMatchObject({ state: 'starting', health: 'starting' });
    expect(componentState([readyPod('t', 'tempo')], false)).toMatchObject({ state: 'running', health: 'healthy', detail: '1/1 ready' });
    expect(componentState([], false)).toMatchObject({ state: 'missing' });
  });
});
