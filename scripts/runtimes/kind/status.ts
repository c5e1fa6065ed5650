/** Whether the stack exists on the kind cluster, and each component's row for `status`. */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { kubernetesNamespaces, type Stack } from '../../stack/model.js';
import { uiUrl } from '../../stack/urls.js';
import type { ComponentStatus } from '../runtime.js';
import { CommandFailed } from '../../lib/exec.js';
import { clusterExists, ensureKubeconfig, explain, getInEach, type KindContext, kubectl } from './context.js';
import { componentState, itemsOfKind, type KubeList, PART_OF_LABEL, podsOf } from './kube-state.js';

/**
 * The cluster exists and one of our namespaces holds workloads. A namespace left by `down` (it keeps the
 * Secret and the data claims) does not count: nothing of the stack runs there.
 */
export async function exists(cx: KindContext): Promise<boolean> {
  if (!(await clusterExists(cx))) return false;
  await ensureKubeconfig(cx);
  const r = await kubectl(cx, ['get', 'deployments,statefulsets,daemonsets,jobs', '--all-namespaces', '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/** Our volume claims in the cluster (kept by `down`, deleted by `--purge` with the cluster). */
export async function keptData(cx: KindContext): Promise<string[]> {
  if (!(await clusterExists(cx))) return [];
  await ensureKubeconfig(cx);
  const r = await kubectl(cx, ['get', 'persistentvolumeclaims', '--all-namespaces', '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true, timeoutMs: 30_000 });
  // An API that does not answer is reported by the apply that follows, with its own advice.
  if (r.exitCode !== 0) return [];
  return r.stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

export async function status(cx: KindContext, stack: Stack): Promise<ComponentStatus[]> {
  if (!(await clusterExists(cx, true))) return [];
  await ensureKubeconfig(cx);
  let list: KubeList;
  try {
    // Every namespace of the stack (OBI has one of its own).
    const got = await getInEach(cx, kubernetesNamespaces(stack), 'pods');
    if (!got.list) throw new CommandFailed('kubectl get pods', got.failed?.exitCode ?? 1, got.failed?.stderr ?? '', got.failed?.stdout ?? '');
    list = got.list;
  } catch (e) {
    throw explain(
      e,
      `cannot read the pods of the kind cluster ${cx.project}`,
      `if its node container is stopped, \`docker start ${cx.project}-control-plane\`; \`mop-sandbox down --purge\` deletes the cluster`,
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
