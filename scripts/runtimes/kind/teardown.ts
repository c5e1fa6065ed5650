/**
 * `down` on kind: delete workloads, Services, ConfigMaps, ServiceAccounts and RBAC by label; keep the Namespace, the
 * Secret and the PersistentVolumeClaims (the data) and the cluster. `down --purge`: kind delete cluster, then remove
 * the cluster's state directory.
 */
import { isUserError } from '../../lib/errors.js';
import { removeUnder } from '../../lib/remove.js';
import { NAMESPACE_LABEL } from '../../stack/model.js';
import type { DownResult } from '../runtime.js';
import { clusterExists, ensureKubeconfig, explain, kind, type KindContext, kindStateRoot, kubectl, kubectlHint, ourNamespaces } from './context.js';
import { PART_OF_LABEL } from './kube-state.js';

/** Namespaced kinds `down` deletes (the renderer's objects minus Namespace, Secret and PersistentVolumeClaim). */
export const DOWN_NAMESPACED = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'services', 'configmaps', 'serviceaccounts', 'roles', 'rolebindings', 'networkpolicies'];
/** Cluster-scoped kinds `down` deletes. */
export const DOWN_CLUSTER_SCOPED = ['clusterroles', 'clusterrolebindings'];
/** Kinds `down` keeps, so the next `up` finds the data and the credentials it had. */
export const DOWN_KEEPS = ['Namespace', 'Secret', 'PersistentVolumeClaim'];

/** Counts our pods and PersistentVolumeClaims (what `down` reports as containers and volumes). */
export async function countOurs(cx: KindContext, namespaces: string[] | 'all'): Promise<{ pods: number; claims: number }> {
  const scope = namespaces === 'all' ? [['--all-namespaces']] : namespaces.map((n) => ['-n', n]);
  let pods = 0;
  let claims = 0;
  for (const s of scope) {
    const r = await kubectl(cx, ['get', 'pods,persistentvolumeclaims', ...s, '-l', PART_OF_LABEL, '-o', 'name'], { allowFail: true, timeoutMs: 30_000 });
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
export async function deleteWorkloads(cx: KindContext, namespaces: string[], opts: { wait: boolean; timeoutMs?: number; onlyTheirClusterObjects?: boolean }): Promise<void> {
  // `down` waits until the pods are gone (foreground), so a following `up` or compose run starts clean;
  // after Ctrl-C nobody wants to wait, and Kubernetes removes the pods on its own.
  const how = opts.wait ? ['--cascade=foreground', '--timeout=120s'] : ['--wait=false'];
  for (const ns of namespaces) {
    await kubectl(cx, ['delete', DOWN_NAMESPACED.join(','), '-n', ns, '-l', PART_OF_LABEL, '--ignore-not-found', ...how], { timeoutMs: opts.timeoutMs });
  }
  // After Ctrl-C only the interrupted namespace's RBAC goes: another namespace of ours may be running on it.
  const selector = opts.onlyTheirClusterObjects ? `${PART_OF_LABEL},${NAMESPACE_LABEL} in (${namespaces.join(',')})` : PART_OF_LABEL;
  await kubectl(cx, ['delete', DOWN_CLUSTER_SCOPED.join(','), '-l', selector, '--ignore-not-found', ...how], { timeoutMs: opts.timeoutMs });
}

export async function down(cx: KindContext, opts: { purge: boolean }): Promise<DownResult> {
  const result: DownResult = { containers: 0, networks: 0, volumes: 0, volumesKept: 0 };
  let exists: boolean;
  try {
    exists = await clusterExists(cx, true);
  } catch (e) {
    // Without kind there can be no kind cluster of ours: nothing to remove but our files.
    if (!isUserError(e, 'KIND_MISSING')) throw e;
    cx.log('kind is not installed, so there is no kind cluster to remove');
    if (opts.purge) await removeUnder(kindStateRoot(cx.env), cx.paths.dir);
    return result;
  }
  if (opts.purge) {
    if (exists) {
      await ensureKubeconfig(cx).catch(() => undefined);
      const counts = await countOurs(cx, 'all');
      try {
        await kind(cx, ['delete', 'cluster', '--name', cx.project, '--kubeconfig', cx.paths.kubeconfig]);
      } catch (e) {
        throw explain(
          e,
          `kind could not delete the cluster ${cx.project}`,
          `try \`kind delete cluster --name ${cx.project}\`, or remove its node container: \`docker rm -f ${cx.project}-control-plane\``,
          'KIND_DELETE_FAILED',
        );
      }
      // The node container, with every pod and volume inside it.
      result.containers = counts.pods + 1;
      result.volumes = counts.claims;
      cx.log(`deleted the kind cluster ${cx.project} and the data in it`);
    } else {
      cx.log(`nothing to delete: there is no kind cluster named ${cx.project}`);
    }
    await removeUnder(kindStateRoot(cx.env), cx.paths.dir);
    return result;
  }
  if (!exists) {
    cx.log(`nothing to do: there is no kind cluster named ${cx.project}`);
    return result;
  }
  await ensureKubeconfig(cx);
  const namespaces = await ourNamespaces(cx);
  if (!namespaces.length) {
    cx.log(`nothing to do: the kind cluster ${cx.project} holds no mop-sandbox namespace`);
    return result;
  }
  const before = await countOurs(cx, namespaces);
  try {
    await deleteWorkloads(cx, namespaces, { wait: true });
  } catch (e) {
    throw explain(
      e,
      `could not remove the stack from the kind cluster ${cx.project}`,
      `see what is left: \`${kubectlHint(cx)} get all -A -l ${PART_OF_LABEL}\`; \`mop-sandbox down --purge\` deletes the whole cluster`,
      'DOWN_FAILED',
    );
  }
  result.containers = before.pods;
  result.volumesKept = before.claims;
  cx.log(
    `kept the data (${before.claims} volume claim${before.claims === 1 ? '' : 's'} in ${namespaces.join(', ')}) and the kind cluster ${cx.project}, ` +
      'which still holds its host ports; `mop-sandbox down --purge` deletes both',
  );
  return result;
}
