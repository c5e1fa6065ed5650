/** `down` on kind (scripts/runtimes/kind/teardown.ts), against the recorded shell of ./world.ts. */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubernetesObjects } from '../../../scripts/render/kubernetes.js';
import { DOWN_CLUSTER_SCOPED, DOWN_KEEPS, DOWN_NAMESPACED } from '../../../scripts/runtimes/kind/teardown.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { sandbox } from '../kind-shell.js';
import { creds, DIR, K, setup } from './world.js';

describe('kind runtime down (recorded shell)', () => {
  it('nothing to do when the cluster is absent (with or without --purge); purge still removes our files', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { stdout: 'other\n' }]]);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'kubeconfig'), 'x');
    expect(await box.rt.down({ purge: false })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(box.notes.at(-1)).toBe('nothing to do: there is no kind cluster named mop-sandbox');
    expect(existsSync(box.dir)).toBe(true);
    expect(await box.rt.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(box.notes.at(-1)).toBe('nothing to delete: there is no kind cluster named mop-sandbox');
    expect(existsSync(box.dir)).toBe(false);
    expect(box.sh.calls).toEqual(['kind get clusters', 'kind get clusters']);
  });

  it('nothing to do when kind is not even installed', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { exitCode: 127 }]]);
    expect(await box.rt.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(box.notes.at(-1)).toContain('kind is not installed');
  });

  it('nothing to do when the cluster holds none of our namespaces', async () => {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get namespaces`, { stdout: '' }],
    ]);
    expect(await box.rt.down({ purge: false })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(box.notes.at(-1)).toContain('nothing to do');
  });

  it('without --purge: deletes workloads, Services, ConfigMaps and RBAC by label; keeps Namespace, Secret, claims and cluster', async () => {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      [`${K} get namespaces`, { stdout: 'namespace/mop-system\n' }],
      [`${K} get pods,persistentvolumeclaims`, { stdout: 'pod/tempo-0\npod/grafana-x\npersistentvolumeclaim/data-tempo-0\npersistentvolumeclaim/grafana-data\n' }],
      [`${K} delete`, {}],
    ]);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'kubeconfig'), 'x');
    const result = await box.rt.down({ purge: false });
    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox -o name`,
      `${K} get pods,persistentvolumeclaims -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o name`,
      `${K} delete deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies -n mop-system -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --cascade=foreground --timeout=120s`,
      `${K} delete clusterroles,clusterrolebindings -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --cascade=foreground --timeout=120s`,
    ]);
    expect(result).toEqual({ containers: 2, networks: 0, volumes: 0, volumesKept: 2 });
    expect(box.notes.at(-1)).toContain('down --purge');
    expect(existsSync(join(box.dir, 'kubeconfig'))).toBe(true);
  });

  it('--purge: kind delete cluster with our kubeconfig, then our files are gone', async () => {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      [`${K} get pods,persistentvolumeclaims`, { stdout: 'pod/tempo-0\npersistentvolumeclaim/data-tempo-0\n' }],
      ['kind delete cluster', { stderr: 'Deleting cluster "mop-sandbox" ...\n' }],
    ]);
    mkdirSync(join(box.dir, 'manifests'), { recursive: true });
    writeFileSync(join(box.dir, 'kubeconfig'), 'x');
    const result = await box.rt.down({ purge: true });
    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `${K} get pods,persistentvolumeclaims --all-namespaces -l app.kubernetes.io/part-of=mop-sandbox -o name`,
      `kind delete cluster --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`,
    ]);
    expect(result).toEqual({ containers: 2, networks: 0, volumes: 1, volumesKept: 0 });
    expect(existsSync(box.dir)).toBe(false);
  });

  it('every kind of object the renderer makes is either deleted by down or deliberately kept', async () => {
    const stack = buildStack({ obi: true });
    const box = await sandbox(stack);
    const kinds = new Set(kubernetesObjects(stack, { sources: box.sources, credentials: creds }).map((o) => o.kind!));
    const plural = (k: string) => (k.endsWith('y') ? k.toLowerCase().slice(0, -1) + 'ies' : k.toLowerCase() + (k.endsWith('s') ? 'es' : 's'));
    for (const k of kinds) {
      const handled = DOWN_KEEPS.includes(k) || DOWN_NAMESPACED.includes(plural(k)) || DOWN_CLUSTER_SCOPED.includes(plural(k));
      expect(handled, `${k} is neither deleted nor kept by down`).toBe(true);
    }
    expect(DOWN_KEEPS).toEqual(['Namespace', 'Secret', 'PersistentVolumeClaim']);
  });
});
