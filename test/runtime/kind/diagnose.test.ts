/** What kind's `up` tells the user when it does not finish, and Ctrl-C (scripts/runtimes/kind/diagnose.ts); against the recorded shell of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../scripts/lib/errors.js';
import { CRASH_RESTART_LIMIT } from '../../../scripts/runtimes/kind/kube-state.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { images, imageRef } from '../../../scripts/stack/versions.js';
import { capturedOutput } from '../kind-shell.js';
import { creds, DIR, K, GET_ALL, setup, workloadList, pod, crashingPod, freshClusterRules } from './world.js';

describe('kind runtime up (recorded shell)', () => {
  it('a crash loop fails fast: names the component, shows the previous container\'s last 50 log lines, exit code 4', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    const logLines = Array.from({ length: 60 }, (_, i) => `level=error msg="line ${i}"`).join('\n') + '\n';
    box.sh.rules.push(
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'tempo', [crashingPod('tempo-0', 'tempo', CRASH_RESTART_LIMIT)])], box),
      [`${K} get pods -n mop-system -l app.kubernetes.io/name=tempo -o json`, { stdout: JSON.stringify({ items: [{ kind: 'Pod', ...crashingPod('tempo-0', 'tempo', CRASH_RESTART_LIMIT) }] }) }],
      [`${K} logs -n mop-system pod/tempo-0 -c tempo --tail=50 --previous`, { stdout: logLines.split('\n').slice(-51).join('\n') }],
    );
    const { out, text } = capturedOutput();
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out, readyTimeoutMs: 600_000 }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'NOT_READY', exitCode: ExitCode.notReady });
    expect(err.what).toBe('tempo failed to start: tempo-0: CrashLoopBackOff (back-off 40s restarting failed container), 3 restarts');
    expect(err.details[0]).toBe('tempo: pod tempo-0: CrashLoopBackOff (back-off 40s restarting failed container), 3 restarts');
    expect(err.details[1]).toBe('last 50 log lines of tempo-0 (previous container):');
    expect(err.details).toHaveLength(2 + 50);
    expect(err.details.at(-1)).toBe('  level=error msg="line 59"');
    expect(err.next).toContain('mop-sandbox logs tempo');
    expect(err.next).toContain(`describe pod tempo-0`);
    expect(box.sh.calls.slice(-3)).toEqual([GET_ALL, `${K} get pods -n mop-system -l app.kubernetes.io/name=tempo -o json`, `${K} logs -n mop-system pod/tempo-0 -c tempo --tail=50 --previous`]);
    expect(text()).toMatch(/✗ tempo\s+tempo-0: CrashLoopBackOff/);
    expect(text()).toMatch(/✗ grafana\s+stopped waiting/);
  });

  it('an image that does not exist fails fast with how to pull or load it', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    const pulling = pod('grafana-abc', 'grafana', {
      phase: 'Pending',
      containerStatuses: [
        { name: 'grafana', ready: false, restartCount: 0, image: imageRef(images.grafana), imageID: '', state: { waiting: { reason: 'ErrImagePull', message: `rpc error: ... ${imageRef(images.grafana)}: not found` } } },
      ],
    });
    box.sh.rules.push(
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'grafana', [pulling])], box),
      [`${K} get pods -n mop-system -l app.kubernetes.io/name=grafana -o json`, { stdout: JSON.stringify({ items: [{ kind: 'Pod', ...pulling }] }) }],
      [`${K} logs -n mop-system pod/grafana-abc -c grafana --tail=50`, { exitCode: 1, stderr: 'container "grafana" is waiting to start: trying and failing to pull image' }],
    );
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_READY', exitCode: ExitCode.notReady });
    expect(err.what).toContain('grafana failed to start: grafana-abc: ErrImagePull');
    // Not `kind load docker-image` of a pulled image: that fails on Docker's containerd image store (kind#3795).
    const grafanaRef = imageRef(images.grafana);
    expect(err.next).toContain(`docker pull --platform linux/${process.arch === 'x64' ? 'amd64' : process.arch} ${grafanaRef}`);
    expect(err.next).toContain(`-o image.tar ${grafanaRef} && kind load image-archive image.tar --name mop-sandbox`);
    expect(err.next).not.toContain('kind load docker-image');
    expect(err.details).toContain('(no log lines from grafana-abc: container "grafana" is waiting to start: trying and failing to pull image)');
  });

  it('a timeout names the components still starting, with their last log lines, exit code 4', async () => {
    const stack = buildStack({ demo: false });
    let clock = 0;
    const box = await setup(stack, [], { now: () => (clock += 10_000) });
    const slow = pod('mimir-0', 'mimir', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name: 'mimir', ready: false, restartCount: 0, image: 'grafana/mimir', imageID: '', state: { running: {} } }],
    });
    box.sh.rules.push(
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'mimir', [slow])], box),
      [`${K} get pods -n mop-system -l app.kubernetes.io/name=mimir -o json`, { stdout: JSON.stringify({ items: [{ kind: 'Pod', ...slow }] }) }],
      [`${K} logs -n mop-system pod/mimir-0 -c mimir --tail=50`, { stdout: 'waiting for ring\n' }],
    );
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out, readyTimeoutMs: 30_000 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_READY', exitCode: ExitCode.notReady, what: 'mimir was not ready within 30s' });
    expect(err.why).toContain('mimir: NotReady');
    expect(err.details).toEqual(['mimir: pod mimir-0: NotReady (running; readiness probe not passing yet)', 'last 1 log lines of mimir-0:', '  waiting for ring']);
    expect(err.next).toContain('run `mop-sandbox up` again');
  });

  it('Ctrl-C while waiting: stops polling, removes the workloads (not the data or the cluster), exit code 130', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    const ctl = new AbortController();
    box.sh.rules.push(
      ...freshClusterRules(stack, [], box),
      [`${K} delete`, {}],
    );
    box.sh.rules.splice(box.sh.rules.findIndex(([m]) => m === GET_ALL), 1, [
      GET_ALL,
      () => {
        ctl.abort(new Error('interrupted'));
        return { exitCode: 143 };
      },
    ]);
    const err = await box.rt.up(stack, { credentials: creds, signal: ctl.signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: ExitCode.interrupted });
    expect(err.why).toContain('the workloads were removed; the kind cluster mop-sandbox and the data volumes were kept');
    expect(box.sh.calls.slice(-3)).toEqual([
      GET_ALL,
      `${K} delete deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies -n mop-system -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --wait=false`,
      // Only this namespace's cluster-scoped objects: another namespace of ours may be running on its own RBAC.
      `${K} delete clusterroles,clusterrolebindings -l "app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace in (mop-system)" --ignore-not-found --wait=false`,
    ]);
  });

  it('Ctrl-C during kind create cluster: deletes the half-made cluster, exit code 130', async () => {
    const ctl = new AbortController();
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: '' }],
      [
        'kind create cluster',
        () => {
          ctl.abort(new Error('interrupted'));
          return { exitCode: 143 };
        },
      ],
      ['kind delete cluster', {}],
    ]);
    const err = await box.rt.up(buildStack(), { credentials: creds, signal: ctl.signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: ExitCode.interrupted, why: 'the half-created kind cluster mop-sandbox was deleted' });
    expect(box.sh.calls.at(-1)).toBe(`kind delete cluster --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`);
  });
});
