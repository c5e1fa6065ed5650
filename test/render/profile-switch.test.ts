/**
 * Switching profiles on one kind cluster, decided from the manifests alone: which profile pairs share a namespace,
 * and whether the second one's data claims can be applied over the first one's. Kubernetes refuses a changed
 * StatefulSet volumeClaimTemplate ("updates to statefulset spec for fields other than ... are forbidden") and a
 * resized claim on kind's `standard` StorageClass (no allowVolumeExpansion: kind pkg/build/nodeimage/const_storage.go),
 * so `up` must refuse those before it changes anything (the runtime's side: test/runtime/kind/cluster-diff.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { kubernetesObjects } from '../../scripts/render/kubernetes.js';
import { staleObjects, storageConflicts } from '../../scripts/runtimes/kind/cluster-diff.js';
import { buildStack, type StackOptions } from '../../scripts/stack/model.js';
import { profileNames, type ProfileName } from '../../scripts/stack/profiles.js';

const opts = (profile: ProfileName): StackOptions => (profile === 'prod' ? { profile, s3Endpoint: 's3.example.com:443' } : { profile });
const render = (profile: ProfileName) => kubernetesObjects(buildStack(opts(profile)));
/** The cluster after `up` with a profile: its objects as the API returns them (same specs). */
const live = (profile: ProfileName) => ({ items: render(profile) });

describe('profile switch on one cluster', () => {
  it('the same profile again is applied: no storage conflict, nothing stale', () => {
    for (const p of profileNames) {
      expect(storageConflicts(live(p), render(p)), p).toEqual([]);
      expect(staleObjects(live(p), render(p)), p).toEqual([]);
    }
  });

  it('default and dev live in different namespaces, so switching between them changes no existing claim', () => {
    const ns = (p: ProfileName) => buildStack(opts(p)).profile.namespace;
    expect(ns('default')).not.toBe(ns('dev'));
  });

  it('default → prod (same namespace): refused, naming every claim whose size would change', () => {
    const stackDefault = buildStack(opts('default'));
    expect(stackDefault.profile.namespace).toBe(buildStack(opts('prod')).profile.namespace);
    const conflicts = storageConflicts(live('default'), render('prod'));
    expect(conflicts).toEqual([
      'statefulset/tempo (claim template data): 10Gi in the cluster, 50Gi in this profile',
      'statefulset/mimir (claim template data): 10Gi in the cluster, 50Gi in this profile',
      'statefulset/loki (claim template data): 10Gi in the cluster, 50Gi in this profile',
      'statefulset/alloy (claim template data): 1Gi in the cluster, 5Gi in this profile',
      'persistentvolumeclaim/grafana-data: 1Gi in the cluster, 5Gi in this profile',
    ]);
    // And back again.
    expect(storageConflicts(live('prod'), render('default'))).toHaveLength(5);
  });

  it('default → prod also prunes what prod does not run (the bundled store and the demo)', () => {
    const stale = staleObjects(live('default'), render('prod'));
    expect(stale).toEqual(expect.arrayContaining(['statefulset/store', 'deployment/demo']));

  });
});
