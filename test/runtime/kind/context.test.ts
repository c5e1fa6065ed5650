/** What every kind stage works with (scripts/runtimes/kind/context.ts): the cluster's name and files, kind on PATH; against the recorded shell of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { createKindRuntime } from '../../../scripts/runtimes/kind/index.js';
import { KIND_INSTALL } from '../../../scripts/runtimes/kind/context.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { capturedOutput, recordedShell, sandbox } from '../kind-shell.js';
import { creds, ROOT, setup, workloadList, criImages, VERSIONS } from './world.js';

describe('kind runtime up (recorded shell)', () => {
  it('MOP_KIND_CLUSTER names the cluster, its context and its state directory', async () => {
    const stack = buildStack({ demo: false });
    const box = await sandbox(stack);
    const sh = recordedShell(box.state, [
      ['kind get clusters', { stdout: 'lab\n' }],
      ['docker inspect', { exitCode: 1, stderr: 'Error: No such object: lab-control-plane' }],
      ['kind export kubeconfig', {}],
      [/^kubectl .* get statefulsets,persistentvolumeclaims /, { stdout: '{"items":[]}' }],
      ['docker exec lab-control-plane crictl images -o json', { stdout: criImages(stack, box) }],
      [/^kubectl .* version -o json$/, { stdout: VERSIONS }],
      [/^kubectl .* delete -n mop-system job\/buckets --ignore-not-found$/, {}],
      [/^kubectl .* get deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies /, { stdout: '{"items":[]}' }],
      [/^kubectl .* get clusterroles,clusterrolebindings /, { stdout: '{"items":[]}' }],
      [/^kubectl .* get namespaces -l app.kubernetes.io\/part-of=mop-sandbox,mop-sandbox\/namespace=mop-system /, { stdout: '' }],
      [/^kubectl .* apply /, {}],
      [/^kubectl .* get deployments,statefulsets,daemonsets,jobs,pods/, { stdout: workloadList(box, stack, true) }],
    ]);
    const notes: string[] = [];
    const rt = createKindRuntime({ exec: sh, env: { ...box.env, MOP_KIND_CLUSTER: 'lab' }, sources: box.sources, pollMs: 0, packageRoot: ROOT, log: (l) => notes.push(l) });
    expect(rt.project).toBe('lab');
    await rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    const kl = 'kubectl --kubeconfig $STATE/kind/lab/kubeconfig --context kind-lab';
    expect(sh.calls).toEqual([
      'kind get clusters',
      // A cluster made elsewhere, no record, and Docker does not know the node: go on, but say how to recover.
      'docker inspect --format "{{json .HostConfig.PortBindings}}" lab-control-plane',
      'kind export kubeconfig --name lab --kubeconfig $STATE/kind/lab/kubeconfig',
      `${kl} get statefulsets,persistentvolumeclaims -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
      'docker exec lab-control-plane crictl images -o json',
      `${kl} version -o json`,
      `${kl} delete -n mop-system job/buckets --ignore-not-found`,
      `${kl} get deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
      `${kl} get clusterroles,clusterrolebindings -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o json`,
      // The namespaces of components with one of their own (OBI's), to prune them too.
      `${kl} get namespaces -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o name`,
      `${kl} apply --server-side --force-conflicts --field-manager=mop-sandbox -f $STATE/kind/lab/manifests`,
      `${kl} get deployments,statefulsets,daemonsets,jobs,pods -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
    ]);
    expect(notes[0]).toContain('could not tell which ports the kind cluster lab maps');
  });

  it('kind missing: exit code 3 with the install page, before anything is created', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { exitCode: 127, stderr: 'kind: command not found' }]]);
    const err = await box.rt.up(buildStack(), { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'KIND_MISSING', exitCode: ExitCode.preflight });
    expect(err.next).toContain(KIND_INSTALL);
    expect(box.sh.calls).toEqual(['kind get clusters']);
  });
});
