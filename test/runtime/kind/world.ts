/**
 * The kind runtime's tests share this world: a recorded shell (../kind-shell.ts) instead of kind, a kubectl cluster
 * and a registry, so every test scripts the programs' answers and asserts the exact commands, their order, the
 * errors and the decisions. (The real thing runs in test/e2e/kind.test.ts where kind is installed.)
 * One test file per stage of scripts/runtimes/kind/.
 */
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { kubernetesObjects, type KubeObject } from '../../../scripts/render/kubernetes.js';
import { createKindRuntime } from '../../../scripts/runtimes/kind/index.js';
import type { KindDeps } from '../../../scripts/runtimes/kind/context.js';
import { workloadsOf } from '../../../scripts/runtimes/kind/start.js';
import { imagesOf, normalizeImage } from '../../../scripts/runtimes/kind/images.js';
import { buildStack, type Stack } from '../../../scripts/stack/model.js';
import { fakeDocker, recordedShell, sandbox, type Rule } from '../kind-shell.js';

export const creds = { GRAFANA_ADMIN_PASSWORD: 'pw', S3_ACCESS_KEY_ID: 'mopkey', S3_SECRET_ACCESS_KEY: 'secret', DEMO_CONTROL_TOKEN: 'token', S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc', S3_TEMPO_SECRET_ACCESS_KEY: 's3-tempo-sec', S3_MIMIR_ACCESS_KEY_ID: 's3-mimir-acc', S3_MIMIR_SECRET_ACCESS_KEY: 's3-mimir-sec', S3_LOKI_ACCESS_KEY_ID: 's3-loki-acc', S3_LOKI_SECRET_ACCESS_KEY: 's3-loki-sec' };
export const DIR = '$STATE/kind/mop-sandbox';
export const K = `kubectl --kubeconfig ${DIR}/kubeconfig --context kind-mop-sandbox`;
export const GET_ALL = `${K} get deployments,statefulsets,daemonsets,jobs,pods -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`;
export const ROOT = '/pkg';

export async function setup(stack: Stack = buildStack(), rules: Rule[] = [], extra: Partial<KindDeps> = {}) {
  const box = await sandbox(stack);
  const sh = recordedShell(box.state, rules);
  const notes: string[] = [];
  const rt = createKindRuntime({
    exec: sh,
    env: box.env,
    platform: 'linux',
    docker: fakeDocker(),
    packageRoot: ROOT,
    sources: box.sources,
    pollMs: 0,
    log: (l) => notes.push(l),
    readSysctl: async (k) => (k.endsWith('watches') ? '1048576' : '8192'),
    ...extra,
  });
  return { ...box, sh, rt, notes, dir: join(box.state, 'kind', 'mop-sandbox') };
}

/** Every workload of the stack, with the status `kubectl rollout status` would call done (or not). */
export function workloadList(box: { sources: Sources }, stack: Stack, ready: boolean | ((component: string) => boolean), pods: Pod[] = []) {
  const objects: KubeObject[] = kubernetesObjects(stack, { sources: box.sources });
  const items = workloadsOf(objects).map((w) => {
    const o = objects.find((x) => x.kind === w.kind && x.metadata?.name === w.name) as any;
    const ok = typeof ready === 'function' ? ready(w.component) : ready;
    const n = o.spec?.replicas ?? 1;
    const meta = { ...o.metadata, generation: 1 };
    switch (w.kind) {
      case 'Deployment':
        return { ...o, metadata: meta, status: { observedGeneration: 1, replicas: n, updatedReplicas: n, availableReplicas: ok ? n : 0 } };
      case 'StatefulSet':
        return { ...o, metadata: meta, status: { observedGeneration: 1, replicas: n, readyReplicas: ok ? n : 0, currentRevision: 'r1', updateRevision: 'r1' } };
      case 'DaemonSet':
        return { ...o, metadata: meta, status: { observedGeneration: 1, desiredNumberScheduled: 1, updatedNumberScheduled: 1, numberAvailable: ok ? 1 : 0 } };
      case 'Job':
        return { ...o, metadata: meta, status: ok ? { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } : { active: 1 } };
    }
  });
  return JSON.stringify({ kind: 'List', items: [...items, ...pods.map((p) => ({ kind: 'Pod', apiVersion: 'v1', ...p }))] });
}

export type Sources = { config: string; dashboards: string };

export function pod(name: string, component: string, status: Pod['status']): Pod {
  return { metadata: { name, labels: { 'app.kubernetes.io/name': component, 'app.kubernetes.io/part-of': 'mop-sandbox' } }, status };
}
export const readyPod = (name: string, component: string): Pod =>
  pod(name, component, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: component, ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }],
  });
export const crashingPod = (name: string, component: string, restarts: number): Pod =>
  pod(name, component, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [
      { name: component, ready: false, restartCount: restarts, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } } },
    ],
  });

export const demoImage = (stack: Stack) => stack.components.find((c) => c.build)!.image;
export const DEMO_ID = 'sha256:3f2a9c81d0e4b7a65c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b';
export const NODE = 'docker exec mop-sandbox-control-plane crictl';

/** Every image the render pulls (not the built demo), as `crictl images -o json` lists them once present. */
export function criImages(stack: Stack, box: { sources: Sources }) {
  const built = new Set(stack.components.filter((c) => c.build).map((c) => c.image));
  return JSON.stringify({
    images: imagesOf(kubernetesObjects(stack, { sources: box.sources }), built).map((ref) => {
      const n = normalizeImage(ref);
      return { repoTags: n.tag ? [`${n.name}:${n.tag}`] : [], repoDigests: n.digest ? [`${n.name}@${n.digest}`] : [] };
    }),
  });
}

/** `kubectl version -o json` of a kubectl and server one minor apart. */
export const VERSIONS = JSON.stringify({ clientVersion: { gitVersion: 'v1.36.2' }, serverVersion: { gitVersion: 'v1.35.8' } });

/** After the cluster exists: the demo's image ID, the node already holding every image, the version check. */
export function nodeRules(stack: Stack, box: { sources: Sources }): Rule[] {
  return [
    ["docker image inspect --format \"{{.Id}}\"", { stdout: `${DEMO_ID}\n` }],
    [`${NODE} images -o json`, { stdout: criImages(stack, box) }],
    [`${K} version -o json`, { stdout: VERSIONS }],
  ];
}

/** The answers of a healthy machine where the cluster does not exist yet. */
export function freshClusterRules(stack: Stack, polls: string[], box: { sources: Sources }): Rule[] {
  let poll = 0;
  return [
    ['kind get clusters', { stdout: '', stderr: 'No kind clusters found.\n' }],
    ['kind create cluster', { stderr: 'Creating cluster "mop-sandbox" ...\n' }],
    ['docker build', { stdout: 'built' }],
    ['kind load docker-image', {}],
    ...nodeRules(stack, box),
    [`${K} apply`, { stdout: 'namespace/mop-system serverside-applied\n' }],
    [GET_ALL, () => ({ stdout: polls[Math.min(poll++, polls.length - 1)] })],
  ];
}
