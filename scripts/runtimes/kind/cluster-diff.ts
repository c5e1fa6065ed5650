/**
 * What the cluster holds against what this render asks for, decided before anything changes:
 *  - stale objects: ours (by the owner label) but no longer rendered (a component turned off, an old version's
 *    object), which `up` deletes so nothing we made lingers;
 *  - storage conflicts: data claims whose size this render changes, which Kubernetes refuses (a StatefulSet's
 *    volumeClaimTemplates cannot change; kind's `standard` StorageClass does not allow expansion), so `up`
 *    stops with the fix instead of failing halfway through an apply.
 */
import type { KubeObject } from '../../render/kubernetes.js';
import type { KubeList } from './kube-state.js';

type Item = NonNullable<KubeList['items']>[number] & { spec?: Record<string, any> };

const key = (kind: string | undefined, name: string | undefined) => `${kind}/${name}`;

/** Live objects of ours that the render no longer has, as `kind/name` for `kubectl delete` (lower-case kinds). */
export function staleObjects(live: KubeList, rendered: KubeObject[]): string[] {
  const wanted = new Set(rendered.map((o) => key(o.kind, o.metadata?.name)));
  return (live.items ?? [])
    .filter((o) => o.kind && o.metadata?.name && !wanted.has(key(o.kind, o.metadata.name)))
    .map((o) => `${o.kind!.toLowerCase()}/${o.metadata!.name}`);
}

const storageOf = (spec: Record<string, any> | undefined): string | undefined => spec?.resources?.requests?.storage;

/** One line per data claim whose requested size differs between the cluster and the render. */
export function storageConflicts(live: KubeList, rendered: KubeObject[]): string[] {
  const out: string[] = [];
  for (const o of (live.items ?? []) as Item[]) {
    const r = rendered.find((x) => x.kind === o.kind && x.metadata?.name === o.metadata?.name) as Item | undefined;
    if (!r) continue;
    if (o.kind === 'StatefulSet') {
      for (const t of (o.spec?.volumeClaimTemplates ?? []) as { metadata?: { name?: string }; spec?: Record<string, any> }[]) {
        const want = ((r.spec?.volumeClaimTemplates ?? []) as typeof t[]).find((x) => x.metadata?.name === t.metadata?.name);
        if (want && storageOf(t.spec) !== storageOf(want.spec)) {
          out.push(`statefulset/${o.metadata!.name} (claim template ${t.metadata?.name}): ${storageOf(t.spec)} in the cluster, ${storageOf(want.spec)} in this profile`);
        }
      }
    }
    if (o.kind === 'PersistentVolumeClaim' && storageOf(o.spec) !== storageOf(r.spec)) {
      out.push(`persistentvolumeclaim/${o.metadata!.name}: ${storageOf(o.spec)} in the cluster, ${storageOf(r.spec)} in this profile`);
    }
  }
  return out;
}
