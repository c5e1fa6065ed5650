/** What the cluster holds against the render (scripts/runtimes/kind/cluster-diff.ts): prune, and the profile-switch refusal; against the recorded shell of ./world.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { kindClusterConfig } from '../../../scripts/render/kind.js';
import { kubernetesObjects } from '../../../scripts/render/kubernetes.js';
import { configMappings } from '../../../scripts/runtimes/kind/start.js';
import { DOWN_CLUSTER_SCOPED, DOWN_NAMESPACED } from '../../../scripts/runtimes/kind/teardown.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { capturedOutput } from '../kind-shell.js';
import { creds, K, GET_ALL, setup, workloadList, nodeRules } from './world.js';

describe('kind up: images, rollout, prune, profile switch (recorded shell)', () => {
  it('prunes by the owner label what the stack no longer has (OBI and the demo turned off), before apply; keeps data claims', async () => {
    const before = buildStack({ obi: true });
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(before)) }));
    const live = (kinds: string[], ns?: string) =>
      JSON.stringify({ items: kubernetesObjects(before, { sources: box.sources }).filter((o) => kinds.includes(o.kind!) && (!ns || o.metadata?.namespace === ns)) });
    box.sh.rules.push(
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get statefulsets,persistentvolumeclaims`, { stdout: live(['StatefulSet', 'PersistentVolumeClaim']) }],
      ...nodeRules(stack, box),
      [`${K} delete -n mop-system job/buckets`, {}],
      [`${K} get ${DOWN_NAMESPACED.join(',')} -n mop-system`, { stdout: live(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Service', 'ConfigMap', 'ServiceAccount'], 'mop-system') }],
      [`${K} get ${DOWN_CLUSTER_SCOPED.join(',')}`, { stdout: live(['ClusterRole', 'ClusterRoleBinding']) }],
      [`${K} delete -n mop-system`, {}],
      // OBI had a namespace of its own; with OBI off it goes whole (it holds no data).
      [`${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system`, { stdout: 'namespace/mop-system-obi\n' }],
      [`${K} delete namespace mop-system-obi --ignore-not-found --wait=false`, {}],
      [`${K} apply`, {}],
      [GET_ALL, { stdout: workloadList(box, stack, true) }],
    );
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    const prune = box.sh.calls.find((c) => c.startsWith(`${K} delete -n mop-system `) && !c.includes('job/buckets'))!;
    const deleted = prune.split(' ').filter((w) => w.includes('/') && !w.startsWith('$'));
    // Exactly the objects of the components that left (demo, obi), of the kinds `down` removes too; OBI's namespaced
    // objects go with its namespace.
    const prunable = ['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'Service', 'ConfigMap', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding'];
    const gone = kubernetesObjects(before, { sources: box.sources }).filter(
      (o) =>
        prunable.includes(o.kind!) &&
        ['demo', 'obi'].includes(o.metadata?.labels?.['app.kubernetes.io/name'] ?? '') &&
        (o.metadata?.namespace ?? 'mop-system') === 'mop-system',
    );
    expect(gone.length).toBeGreaterThanOrEqual(4);
    expect(box.sh.calls).toContain(`${K} delete namespace mop-system-obi --ignore-not-found --wait=false`);
    expect(deleted.sort()).toEqual(gone.map((o) => `${o.kind!.toLowerCase()}/${o.metadata!.name}`).sort());
    expect(deleted.some((d) => d.startsWith('persistentvolumeclaim/') || d.startsWith('secret/') || d.startsWith('namespace/'))).toBe(false);
    expect(box.sh.calls.indexOf(prune)).toBeLessThan(box.sh.calls.findIndex((c) => c.startsWith(`${K} apply`)));
    // The cluster-scoped lookup selects only this namespace's objects.
    expect(box.sh.calls).toContain(`${K} get clusterroles,clusterrolebindings -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o json`);
    expect(text()).toContain('removed what is no longer part of the stack: ');
  });

  it('switching default → prod on the same namespace: refused before anything changes, naming the claims and the way out', async () => {
    const before = buildStack();
    const stack = buildStack({ profile: 'prod', s3Endpoint: 's3.example.com:443' });
    const box = await setup(stack);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(
      join(box.dir, 'cluster.json'),
      JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(before)), namespace: 'mop-system', profile: 'default' }),
    );
    const live = kubernetesObjects(before, { sources: box.sources }).filter((o) => o.kind === 'StatefulSet' || o.kind === 'PersistentVolumeClaim');
    box.sh.rules.push(
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get statefulsets,persistentvolumeclaims -n mop-system`, { stdout: JSON.stringify({ items: live }) }],
    );
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'PROFILE_SWITCH_REFUSED', exitCode: ExitCode.preflight });
    expect(err.what).toBe('the namespace mop-system holds data volumes of other sizes than the prod profile asks for (made by the default profile)');
    expect(err.why).toContain('nothing was changed');
    expect(err.details).toContain('statefulset/tempo (claim template data): 10Gi in the cluster, 50Gi in this profile');
    expect(err.details).toContain('persistentvolumeclaim/grafana-data: 1Gi in the cluster, 5Gi in this profile');
    expect(err.next).toContain('`mop-sandbox up --profile default`');
    expect(err.next).toContain('`mop-sandbox down --purge`');
    // Nothing changed: no build, no pull, no delete, no apply.
    expect(box.sh.calls.filter((c) => / (delete|apply) |docker build|crictl pull|kind load/.test(c))).toEqual([]);
  });
});
