/** `status`, `exists` and `keptData` on kind (scripts/runtimes/kind/status.ts), against the recorded shell of ./world.ts. */
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { kubernetesObjects, type KubeObject } from '../../../scripts/render/kubernetes.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { capturedOutput } from '../kind-shell.js';
import { creds, DIR, K, GET_ALL, setup, workloadList, pod, readyPod, crashingPod, nodeRules } from './world.js';

describe('kind runtime status, exists, logs (recorded shell)', () => {
  it('status: nothing when the cluster does not exist', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { stdout: 'other\n' }]]);
    expect(await box.rt.status(buildStack())).toEqual([]);
    expect(box.sh.calls).toEqual(['kind get clusters']);
  });

  it('keptData: the volume claims of our stack in the cluster (none without a cluster; none said when the API does not answer)', async () => {
    const none = await setup(buildStack(), [['kind get clusters', { stdout: 'other\n' }]]);
    expect(await none.rt.keptData()).toEqual([]);
    const pvcs = `${K} get persistentvolumeclaims --all-namespaces -l app.kubernetes.io/part-of=mop-sandbox -o name`;
    const kept = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [pvcs, { stdout: 'persistentvolumeclaim/data-grafana-0\npersistentvolumeclaim/data-loki-0\n' }],
    ]);
    expect(await kept.rt.keptData()).toEqual(['persistentvolumeclaim/data-grafana-0', 'persistentvolumeclaim/data-loki-0']);
    const down = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [pvcs, { exitCode: 1, stderr: 'The connection to the server 127.0.0.1:6443 was refused' }],
    ]);
    expect(await down.rt.keptData()).toEqual([]);
  });

  it('status: kubectl get pods -o json → one row per component, with the 127.0.0.1 URL kind maps', async () => {
    const stack = buildStack({ demo: false });
    const pods = [
      readyPod('store-0', 'store'),
      pod('buckets-x', 'buckets', { phase: 'Succeeded' }),
      crashingPod('tempo-0', 'tempo', 5),
      readyPod('mimir-0', 'mimir'),
      readyPod('loki-0', 'loki'),
      readyPod('alloy-a', 'alloy'),
      readyPod('alloy-b', 'alloy'),
    ];
    const box = await setup(stack, [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get pods -n mop-system -o json`, { stdout: JSON.stringify({ items: pods.map((p) => ({ kind: 'Pod', ...p })) }) }],
    ]);
    const rows = await box.rt.status(stack);
    expect(box.sh.calls).toEqual(['kind get clusters', `kind export kubeconfig --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`, `${K} get pods -n mop-system -o json`]);
    const by = Object.fromEntries(rows.map((r) => [r.name, r]));
    expect(rows.map((r) => r.name)).toEqual(stack.components.map((c) => c.name));
    // The store's only UI is its console, off by default (storeConsole): no URL to open.
    expect(by.store).toMatchObject({ state: 'running', health: 'healthy' });
    expect(by.store.url).toBeUndefined();
    expect(by.buckets).toMatchObject({ state: 'completed', health: 'none' });
    expect(by.tempo).toMatchObject({ state: 'restarting', health: 'unhealthy' });
    expect(by.tempo.url).toBeUndefined();
    expect(by.alloy).toMatchObject({ state: 'running', health: 'healthy', detail: '2/2 ready', url: 'http://127.0.0.1:12345/' });
    expect(by.grafana).toMatchObject({ state: 'missing', health: 'none' });
  });

  it("OBI's own namespace: status and the readiness wait read both namespaces, `logs obi` reads OBI's", async () => {
    const stack = buildStack({ demo: false, obi: true });
    const main = stack.components.filter((c) => c.name !== 'obi').map((c) => readyPod(`${c.name}-0`, c.name));
    const obiPod = readyPod('obi-x', 'obi');
    const list = (pods: Pod[]) => JSON.stringify({ items: pods.map((p) => ({ kind: 'Pod', ...p })) });
    const box = await setup(stack, [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get pods -n mop-system -o json`, { stdout: list(main) }],
      [`${K} get pods -n mop-system-obi -o json`, { stdout: list([obiPod]) }],
    ]);
    const rows = await box.rt.status(stack);
    expect(box.sh.calls).toContain(`${K} get pods -n mop-system-obi -o json`);
    expect(rows.find((r) => r.name === 'obi')).toMatchObject({ state: 'running', health: 'healthy' });

    // The wait: one snapshot per namespace, OBI's DaemonSet found in its own.
    const objects = kubernetesObjects(stack, { sources: box.sources });
    const inNs = (ns: string) => (o: KubeObject) => o.metadata?.namespace === ns;
    const all = JSON.parse(workloadList(box, stack, true)).items as KubeObject[];
    const w = await setup(stack);
    w.sh.rules.push(
      ['kind get clusters', { stdout: '', stderr: 'No kind clusters found.\n' }],
      ['kind create cluster', {}],
      ...nodeRules(stack, w),
      [`${K} apply`, {}],
      [GET_ALL, { stdout: JSON.stringify({ items: all.filter(inNs('mop-system')) }) }],
      [`${K} get deployments,statefulsets,daemonsets,jobs,pods -n mop-system-obi -l app.kubernetes.io/part-of=mop-sandbox -o json`, { stdout: JSON.stringify({ items: all.filter(inNs('mop-system-obi')) }) }],
    );
    const times = await w.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    expect(Object.keys(times)).toContain('obi');
    expect(objects.filter(inNs('mop-system-obi')).map((o) => o.kind).sort()).toEqual(['DaemonSet', 'NetworkPolicy', 'Service', 'ServiceAccount']);

    // logs obi: in OBI's namespace, found by its label.
    const l = await setup(stack, [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox -o name`, { stdout: 'namespace/mop-system\nnamespace/mop-system-obi\n' }],
      [`${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o name`, { stdout: 'namespace/mop-system-obi\n' }],
      [`${K} logs -n mop-system-obi`, { stdout: '[pod/obi-x/obi] instrumenting\n' }],
    ]);
    const lines: string[] = [];
    await l.rt.logs('obi', { tail: 10, follow: false, write: (x: string) => lines.push(x), signal: new AbortController().signal });
    expect(lines).toEqual(['instrumenting']);
  });

  it('exists: the cluster, and workloads of ours in it (a namespace kept by down holds only data)', async () => {
    const GET_WORKLOADS = `${K} get deployments,statefulsets,daemonsets,jobs --all-namespaces -l app.kubernetes.io/part-of=mop-sandbox -o name`;
    const yes = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [GET_WORKLOADS, { stdout: 'deployment.apps/grafana\n' }],
    ]);
    expect(await yes.rt.exists()).toBe(true);
    expect(yes.sh.calls).toEqual(['kind get clusters', `kind export kubeconfig --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`, GET_WORKLOADS]);
    const afterDown = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [GET_WORKLOADS, { stdout: '' }],
    ]);
    expect(await afterDown.rt.exists()).toBe(false);
    const none = await setup(buildStack(), [['kind get clusters', { stdout: '' }]]);
    expect(await none.rt.exists()).toBe(false);
    const noKind = await setup(buildStack(), [['kind get clusters', { exitCode: 127 }]]);
    expect(await noKind.rt.exists()).toBe(false);
  });
});
