/**
 * The kind runtime against a recorded shell: no kind, kubectl cluster or registry runs here, so every test
 * scripts the programs' answers and asserts the exact commands, their order, the errors and the decisions.
 * (The real thing runs in test/e2e/kind.test.ts where kind is installed.)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';
import { createExec } from '../../scripts/lib/exec.js';
import { preflightError } from '../../scripts/lib/preflight.js';
import { kindClusterConfig } from '../../scripts/render/kind.js';
import { kubernetesObjects, type KubeObject } from '../../scripts/render/kubernetes.js';
import {
  bindingsToMappings,
  configMappings,
  createKindRuntime,
  DOWN_CLUSTER_SCOPED,
  DOWN_KEEPS,
  DOWN_NAMESPACED,
  INOTIFY_FIX,
  KIND_INSTALL,
  workloadsOf,
  type KindDeps,
} from '../../scripts/runtimes/kind.js';
import { componentState, podProblem, rolloutStatus, CRASH_RESTART_LIMIT } from '../../scripts/runtimes/kind/kube-state.js';
import { buildStack, type Stack } from '../../scripts/stack/model.js';
import { images, imageRef } from '../../scripts/stack/versions.js';
import { capturedOutput, fakeDocker, recordedShell, sandbox, type Rule } from './kind-shell.js';

const creds = { GRAFANA_ADMIN_PASSWORD: 'pw', S3_ACCESS_KEY_ID: 'mopkey', S3_SECRET_ACCESS_KEY: 'secret', DEMO_CONTROL_TOKEN: 'token' };
const DIR = '$STATE/kind/mop-sandbox';
const K = `kubectl --kubeconfig ${DIR}/kubeconfig --context kind-mop-sandbox`;
const GET_ALL = `${K} get deployments,statefulsets,daemonsets,jobs,pods -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`;
const ROOT = '/pkg';

async function setup(stack: Stack = buildStack(), rules: Rule[] = [], extra: Partial<KindDeps> = {}) {
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
function workloadList(box: { sources: Sources }, stack: Stack, ready: boolean | ((component: string) => boolean), pods: Pod[] = []) {
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

type Sources = { config: string; dashboards: string };

function pod(name: string, component: string, status: Pod['status']): Pod {
  return { metadata: { name, labels: { 'app.kubernetes.io/name': component, 'app.kubernetes.io/part-of': 'mop-sandbox' } }, status };
}
const readyPod = (name: string, component: string): Pod =>
  pod(name, component, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [{ name: component, ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: {} } }],
  });
const crashingPod = (name: string, component: string, restarts: number): Pod =>
  pod(name, component, {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: 'False' }],
    containerStatuses: [
      { name: component, ready: false, restartCount: restarts, image: 'x', imageID: '', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } } },
    ],
  });

const demoImage = (stack: Stack) => stack.components.find((c) => c.build)!.image;

/** The answers of a healthy machine where the cluster does not exist yet. */
function freshClusterRules(stack: Stack, polls: string[]): Rule[] {
  let poll = 0;
  return [
    ['kind get clusters', { stdout: '', stderr: 'No kind clusters found.\n' }],
    ['kind create cluster', { stderr: 'Creating cluster "mop-sandbox" ...\n' }],
    ['docker build', { stdout: 'built' }],
    ['kind load docker-image', {}],
    [`${K} apply`, { stdout: 'namespace/mop-system serverside-applied\n' }],
    [GET_ALL, () => ({ stdout: polls[Math.min(poll++, polls.length - 1)] })],
  ];
}

describe('kind runtime preflight (recorded shell)', () => {
  const versions: Rule[] = [
    ['kind version', { stdout: 'kind v0.33.0 go1.24.2 linux/amd64\n' }],
    ['kubectl version --client', { stdout: 'Client Version: v1.32.4\nKustomize Version: v5.5.0\n' }],
  ];

  it('runs kind version, kubectl version --client and kind get clusters; reports an existing cluster as holding the ports', async () => {
    const { rt, sh } = await setup(buildStack(), [...versions, ['kind get clusters', { stdout: 'mop-sandbox\n' }]]);
    const checks = await rt.preflight(buildStack());
    expect(sh.calls).toEqual(['kind version', 'kubectl version --client', 'kind get clusters']);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId.kind).toMatchObject({ ok: true, severity: 'error', detail: 'kind v0.33.0 go1.24.2 linux/amd64' });
    expect(byId.kubectl).toMatchObject({ ok: true, detail: 'kubectl v1.32.4' });
    expect(byId.docker).toMatchObject({ ok: true });
    expect(byId.memory).toMatchObject({ ok: true });
    expect(byId.ports).toMatchObject({ ok: true, detail: expect.stringContaining('existing kind cluster mop-sandbox') });
    expect(byId.config).toMatchObject({ ok: true });
    // max_user_instances is 8192 here; watches 1048576: both above kind's minimums.
    expect(byId.inotify).toMatchObject({ ok: true, severity: 'warn' });
    for (const c of checks) expect(c).toEqual(expect.objectContaining({ id: expect.any(String), title: expect.any(String), ok: expect.any(Boolean), detail: expect.any(String) }));
  });

  it('kind missing: a failed error check whose fix is the install page, and preflight exit code 3', async () => {
    const { rt, sh } = await setup(buildStack(), [['kind version', { exitCode: 127, stderr: 'kind: command not found' }], versions[1]]);
    const checks = await rt.preflight(buildStack());
    expect(sh.calls).not.toContain('kind get clusters');
    const kind = checks.find((c) => c.id === 'kind')!;
    expect(kind).toMatchObject({ ok: false, severity: 'error', detail: '`kind` is not on PATH', fix: KIND_INSTALL });
    expect(KIND_INSTALL).toBe('install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation');
    // No cluster can exist, so the host ports are checked for real.
    expect(checks.some((c) => c.id === 'ports' || c.id.startsWith('port:'))).toBe(true);
    const err = preflightError(checks.filter((c) => !c.id.startsWith('port')))!;
    expect(err.exitCode).toBe(ExitCode.preflight);
    expect(err.next).toContain('https://kind.sigs.k8s.io/docs/user/quick-start/#installation');
  });

  it('kubectl missing is a failed error check with the kubectl install page', async () => {
    const { rt } = await setup(buildStack(), [versions[0], ['kubectl version --client', { exitCode: 127 }], ['kind get clusters', { stdout: 'mop-sandbox\n' }]]);
    const kubectl = (await rt.preflight(buildStack())).find((c) => c.id === 'kubectl')!;
    expect(kubectl).toMatchObject({ ok: false, severity: 'error', fix: expect.stringContaining('https://kubernetes.io/docs/tasks/tools/') });
  });

  it('warns about low inotify limits on Linux with the sysctl fix, and skips the check elsewhere', async () => {
    const rules: Rule[] = [...versions, ['kind get clusters', { stdout: 'mop-sandbox\n' }]];
    const low = await setup(buildStack(), rules, { readSysctl: async (k) => (k.endsWith('watches') ? '8192' : '128') });
    const check = (await low.rt.preflight(buildStack())).find((c) => c.id === 'inotify')!;
    expect(check).toMatchObject({ ok: false, severity: 'warn', fix: INOTIFY_FIX });
    expect(check.detail).toContain('fs.inotify.max_user_watches=8192 (kind needs 524288)');
    expect(check.detail).toContain('fs.inotify.max_user_instances=128 (kind needs 512)');
    expect(INOTIFY_FIX).toContain('sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512');
    const mac = await setup(buildStack(), rules, { platform: 'darwin' });
    expect((await mac.rt.preflight(buildStack())).some((c) => c.id === 'inotify')).toBe(false);
  });

  it('warns when kind is older than the release that published the pinned node image', async () => {
    const { rt } = await setup(buildStack(), [['kind version', { stdout: 'kind v0.20.0 go1.20.4 linux/amd64' }], versions[1], ['kind get clusters', { stdout: '' }]]);
    const checks = await rt.preflight(buildStack());
    expect(checks.find((c) => c.id === 'kind')).toMatchObject({ ok: true });
    expect(checks.find((c) => c.id === 'kind-version')).toMatchObject({ ok: false, severity: 'warn' });
  });
});

describe('kind runtime up (recorded shell)', () => {
  it('fresh cluster: get clusters, create with our config and kubeconfig, build + load the demo image, apply, poll until ready', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    const notReady = workloadList(box, stack, (c) => c !== 'tempo', [
      pod('tempo-0', 'tempo', {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'wait-for-buckets', ready: false, restartCount: 0, image: 'mc', imageID: '', state: { running: {} } }],
      }),
    ]);
    box.sh.rules.push(...freshClusterRules(stack, [notReady, workloadList(box, stack, true)]));
    const { out, text } = capturedOutput();
    const times = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });

    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `kind create cluster --name mop-sandbox --config ${DIR}/kind-cluster.yaml --kubeconfig ${DIR}/kubeconfig --wait 60s`,
      `docker build -f /pkg/demo-app/Dockerfile -t ${demoImage(stack)} /pkg`,
      `kind load docker-image ${demoImage(stack)} --name mop-sandbox`,
      `${K} apply --server-side --force-conflicts --field-manager=mop-sandbox -f ${DIR}/manifests`,
      GET_ALL,
      GET_ALL,
    ]);
    const components = ['store', 'buckets', 'tempo', 'mimir', 'loki', 'alloy', 'grafana', 'demo'];
    expect(Object.keys(times).sort()).toEqual([...components].sort());
    for (const c of components) expect(times[c]).toBeGreaterThanOrEqual(0);
    // Progress: the waiting reason, then one line per component with its time to ready.
    expect(text()).toContain('tempo: Init:wait-for-buckets');
    for (const c of components) expect(text()).toMatch(new RegExp(`✓ ${c}\\s+ready in \\d+\\.\\ds`));

    // The rendered files and the record of the port mappings the cluster was created with.
    expect(readFileSync(join(box.dir, 'kind-cluster.yaml'), 'utf8')).toContain('listenAddress: 127.0.0.1');
    expect(existsSync(join(box.dir, 'manifests', '00-namespace.yaml'))).toBe(true);
    const secret = join(box.dir, 'manifests', '02-secret.yaml');
    expect(readFileSync(secret, 'utf8')).toContain('mop-credentials');
    const record = JSON.parse(readFileSync(join(box.dir, 'cluster.json'), 'utf8'));
    expect(record).toMatchObject({ cluster: 'mop-sandbox', namespace: 'mop-system', portMappings: configMappings(kindClusterConfig(stack)) });
    const grafana = kindClusterConfig(stack).nodes[0].extraPortMappings.find((m) => m.hostPort === 3000)!;
    expect(record.portMappings).toContain(`127.0.0.1:3000->${grafana.containerPort}/tcp`);
  });

  it('MOP_KIND_CLUSTER names the cluster, its context and its state directory', async () => {
    const stack = buildStack({ demo: false });
    const box = await sandbox(stack);
    const sh = recordedShell(box.state, [
      ['kind get clusters', { stdout: 'lab\n' }],
      ['docker inspect', { exitCode: 1, stderr: 'Error: No such object: lab-control-plane' }],
      ['kind export kubeconfig', {}],
      [/^kubectl .* delete -n mop-system job\/buckets --ignore-not-found$/, {}],
      [/^kubectl .* apply /, {}],
      [/^kubectl .* get deployments/, { stdout: workloadList(box, stack, true) }],
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
      `${kl} delete -n mop-system job/buckets --ignore-not-found`,
      `${kl} apply --server-side --force-conflicts --field-manager=mop-sandbox -f $STATE/kind/lab/manifests`,
      `${kl} get deployments,statefulsets,daemonsets,jobs,pods -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
    ]);
    expect(notes[0]).toContain('could not tell which ports the kind cluster lab maps');
  });

  it('existing cluster with the same port mappings: reuse it, refresh our kubeconfig, re-run the bucket job, never create', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(stack)) }));
    box.sh.rules.push(
      ['kind get clusters', { stdout: 'other\nmop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      ['docker build', {}],
      ['kind load docker-image', {}],
      [`${K} delete -n mop-system job/buckets --ignore-not-found`, {}],
      [`${K} apply`, {}],
      [GET_ALL, { stdout: workloadList(box, stack, true) }],
    );
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `kind export kubeconfig --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`,
      `docker build -f /pkg/demo-app/Dockerfile -t ${demoImage(stack)} /pkg`,
      `kind load docker-image ${demoImage(stack)} --name mop-sandbox`,
      `${K} delete -n mop-system job/buckets --ignore-not-found`,
      `${K} apply --server-side --force-conflicts --field-manager=mop-sandbox -f ${DIR}/manifests`,
      GET_ALL,
    ]);
    expect(text()).toContain('kind cluster mop-sandbox (exists, reused)');
  });

  it('existing cluster with other port mappings: a UserError saying kind cannot change them and to purge; nothing else runs', async () => {
    const created = buildStack();
    const stack = buildStack({ hostPorts: { 'grafana.http': 3001 } });
    const box = await setup(stack, [['kind get clusters', { stdout: 'mop-sandbox\n' }]]);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(created)) }));
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'KIND_PORTS_CHANGED', exitCode: ExitCode.preflight });
    expect(err.why).toContain('cannot change them');
    expect(err.why).toContain('grafana.http on 127.0.0.1:3001');
    expect(err.next).toContain('mop-sandbox down --purge');
    expect(err.next).toContain('deletes the cluster');
    expect(box.sh.calls).toEqual(['kind get clusters']);
  });

  it('existing cluster and no record: compares with the ports Docker says the node publishes', async () => {
    const stack = buildStack({ demo: false });
    const want = kindClusterConfig(stack).nodes[0].extraPortMappings;
    const bindings = Object.fromEntries([
      ['6443/tcp', [{ HostIp: '127.0.0.1', HostPort: '41234' }]],
      ...want.filter((m) => m.hostPort !== 3000).map((m) => [`${m.containerPort}/tcp`, [{ HostIp: m.listenAddress, HostPort: String(m.hostPort) }]]),
    ]);
    const box = await setup(stack, [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['docker inspect', { stdout: JSON.stringify(bindings) }],
    ]);
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(box.sh.calls).toEqual(['kind get clusters', 'docker inspect --format "{{json .HostConfig.PortBindings}}" mop-sandbox-control-plane']);
    expect(err).toMatchObject({ code: 'KIND_PORTS_CHANGED' });
    expect(err.why).toContain('grafana.http on 127.0.0.1:3000');
    expect(err.details.join('\n')).toContain('published by the node container mop-sandbox-control-plane');
    // What Docker said is recorded, so the next run compares without asking again.
    const record = JSON.parse(readFileSync(join(box.dir, 'cluster.json'), 'utf8'));
    expect(record.portMappings).toEqual(bindingsToMappings(bindings));
    expect(record.portMappings.some((m: string) => m.includes('->6443/'))).toBe(false);
  });

  it('kind missing: exit code 3 with the install page, before anything is created', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { exitCode: 127, stderr: 'kind: command not found' }]]);
    const err = await box.rt.up(buildStack(), { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'KIND_MISSING', exitCode: ExitCode.preflight });
    expect(err.next).toContain(KIND_INSTALL);
    expect(box.sh.calls).toEqual(['kind get clusters']);
  });

  it('kind create failing: what, why (its stderr), and next', async () => {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', { exitCode: 1, stderr: 'ERROR: failed to create cluster: node(s) already exist for a cluster with the name "mop-sandbox"\n' }],
    ]);
    const err = await box.rt.up(buildStack(), { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'KIND_CREATE_FAILED', exitCode: ExitCode.failure, what: 'kind could not create the cluster mop-sandbox' });
    expect(err.why).toContain('node(s) already exist');
    expect(err.next).toContain('mop-sandbox down --purge');
    expect(box.sh.calls).toHaveLength(2);
  });

  it('a crash loop fails fast: names the component, shows the previous container\'s last 50 log lines, exit code 4', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    const logLines = Array.from({ length: 60 }, (_, i) => `level=error msg="line ${i}"`).join('\n') + '\n';
    box.sh.rules.push(
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'tempo', [crashingPod('tempo-0', 'tempo', CRASH_RESTART_LIMIT)])]),
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
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'grafana', [pulling])]),
      [`${K} get pods -n mop-system -l app.kubernetes.io/name=grafana -o json`, { stdout: JSON.stringify({ items: [{ kind: 'Pod', ...pulling }] }) }],
      [`${K} logs -n mop-system pod/grafana-abc -c grafana --tail=50`, { exitCode: 1, stderr: 'container "grafana" is waiting to start: trying and failing to pull image' }],
    );
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_READY', exitCode: ExitCode.notReady });
    expect(err.what).toContain('grafana failed to start: grafana-abc: ErrImagePull');
    expect(err.next).toContain(`docker pull ${imageRef(images.grafana)}`);
    expect(err.next).toContain(`kind load docker-image ${imageRef(images.grafana)} --name mop-sandbox`);
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
      ...freshClusterRules(stack, [workloadList(box, stack, (c) => c !== 'mimir', [slow])]),
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
      ...freshClusterRules(stack, []),
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
      `${K} delete deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts -n mop-system -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --wait=false`,
      `${K} delete clusterroles,clusterrolebindings -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --wait=false`,
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

  it('a NodePort held by another profile\'s namespace: the apply error says to run down first', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    box.sh.rules.push(
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      [`${K} apply`, { exitCode: 1, stderr: 'The Service "grafana-nodeport" is invalid: spec.ports[0].nodePort: Invalid value: 30007: provided port is already allocated' }],
    );
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'APPLY_FAILED' });
    expect(err.next).toContain('run `mop-sandbox down` first');
  });
});

describe('kind runtime status, exists, logs (recorded shell)', () => {
  it('status: nothing when the cluster does not exist', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { stdout: 'other\n' }]]);
    expect(await box.rt.status(buildStack())).toEqual([]);
    expect(box.sh.calls).toEqual(['kind get clusters']);
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
    expect(by.store).toMatchObject({ state: 'running', health: 'healthy', url: 'http://127.0.0.1:9001/' });
    expect(by.buckets).toMatchObject({ state: 'completed', health: 'none' });
    expect(by.tempo).toMatchObject({ state: 'restarting', health: 'unhealthy' });
    expect(by.tempo.url).toBeUndefined();
    expect(by.alloy).toMatchObject({ state: 'running', health: 'healthy', detail: '2/2 ready', url: 'http://127.0.0.1:12345/' });
    expect(by.grafana).toMatchObject({ state: 'missing', health: 'none' });
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

  async function logsBox() {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get namespaces`, { stdout: 'namespace/mop-system\n' }],
      [
        `${K} logs`,
        {
          stdout: '[pod/tempo-0/tempo] level=info msg=started\n[pod/grafana-7c/grafana] logger=server msg="HTTP Server Listen"\n',
        },
      ],
    ]);
    return box;
  }

  it('logs of every component: kubectl logs -l app.kubernetes.io/name --prefix, lines prefixed with the component', async () => {
    const box = await logsBox();
    const lines: string[] = [];
    await box.rt.logs(undefined, { follow: false, tail: 100, signal: new AbortController().signal, write: (l) => lines.push(l) });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name --tail=100 --prefix --max-log-requests=50`);
    expect(lines).toEqual(['tempo | level=info msg=started', 'grafana | logger=server msg="HTTP Server Listen"']);
  });

  it('logs of one component, following: -l app.kubernetes.io/name=<component> -f, lines without prefix', async () => {
    const box = await logsBox();
    const lines: string[] = [];
    await box.rt.logs('tempo', { follow: true, tail: 20, signal: new AbortController().signal, write: (l) => lines.push(l) });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name=tempo --tail=20 --prefix --max-log-requests=50 -f --ignore-errors`);
    expect(lines[0]).toBe('level=info msg=started');
    await box.rt.logs('tempo', { follow: false, tail: Number.MAX_SAFE_INTEGER, signal: new AbortController().signal, write: () => undefined });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name=tempo --tail=-1 --prefix --max-log-requests=50`);
  });

  it('logs -f streams lines as they arrive and stops on Ctrl-C (real exec wrapper, stand-in kind/kubectl scripts on PATH)', async () => {
    const box = await sandbox(buildStack());
    const bin = join(box.root, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'kind'), '#!/bin/sh\n[ "$1 $2" = "get clusters" ] && echo mop-sandbox\nexit 0\n', { mode: 0o755 });
    writeFileSync(
      join(bin, 'kubectl'),
      [
        '#!/bin/sh',
        'case "$*" in',
        '  *"get namespaces"*) echo namespace/mop-system ;;',
        '  *" logs "*) echo "[pod/tempo-0/tempo] first"; sleep 0.2; echo "[pod/loki-0/loki] second"; exec sleep 30 ;;',
        'esac',
      ].join('\n') + '\n',
      { mode: 0o755 },
    );
    mkdirSync(join(box.state, 'kind', 'mop-sandbox'), { recursive: true });
    writeFileSync(join(box.state, 'kind', 'mop-sandbox', 'kubeconfig'), 'stand-in');
    // The full environment: zx takes seconds to start a program when most variables are missing.
    const env: NodeJS.ProcessEnv = { ...process.env, MOP_STATE_DIR: box.state, PATH: `${bin}:${process.env.PATH}` };
    delete env.MOP_KIND_CLUSTER;
    const rt = createKindRuntime({ exec: createExec(), env });
    const ctl = new AbortController();
    const lines: string[] = [];
    const started = Date.now();
    await rt.logs(undefined, {
      follow: true,
      tail: 10,
      signal: ctl.signal,
      write: (l) => {
        lines.push(l);
        if (lines.length === 2) ctl.abort();
      },
    });
    expect(lines).toEqual(['tempo | first', 'loki | second']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('logs with no cluster: a UserError saying how to start it', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { stdout: '' }]]);
    const err = await box.rt.logs(undefined, { follow: false, tail: 10, signal: new AbortController().signal, write: () => undefined }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_RUNNING' });
    expect(err.next).toContain('mop-sandbox up --runtime kind');
  });
});

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
      `${K} delete deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts -n mop-system -l app.kubernetes.io/part-of=mop-sandbox --ignore-not-found --cascade=foreground --timeout=120s`,
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
    const plural = (k: string) => k.toLowerCase() + (k.endsWith('s') ? 'es' : 's');
    for (const k of kinds) {
      const handled = DOWN_KEEPS.includes(k) || DOWN_NAMESPACED.includes(plural(k)) || DOWN_CLUSTER_SCOPED.includes(plural(k));
      expect(handled, `${k} is neither deleted nor kept by down`).toBe(true);
    }
    expect(DOWN_KEEPS).toEqual(['Namespace', 'Secret', 'PersistentVolumeClaim']);
  });
});

describe('kind runtime decisions (pure)', () => {
  it('port mappings: the kind config and docker inspect give the same form; the API server port is not ours', () => {
    const cfg = kindClusterConfig(buildStack());
    const keys = configMappings(cfg);
    const bindings = Object.fromEntries(cfg.nodes[0].extraPortMappings.map((m) => [`${m.containerPort}/tcp`, [{ HostIp: m.listenAddress, HostPort: String(m.hostPort) }]]));
    expect(bindingsToMappings({ ...bindings, '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '39999' }] })).toEqual(keys);
    expect(keys.every((k) => k.startsWith('127.0.0.1:'))).toBe(true);
  });

  it('rollout status follows kubectl: observed generation, updated, available', () => {
    const dep = (status: object, generation = 2) => ({ kind: 'Deployment', metadata: { name: 'g', generation }, spec: { replicas: 2 }, status }) as any;
    expect(rolloutStatus(dep({ observedGeneration: 1 }))).toMatchObject({ done: false, detail: 'waiting for the rollout to be observed' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 1, replicas: 2 }))).toMatchObject({ done: false, detail: '1 of 2 replicas updated' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 3, availableReplicas: 2 }))).toMatchObject({ detail: '1 old replicas pending termination' });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 1 }))).toMatchObject({ done: false });
    expect(rolloutStatus(dep({ observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 }))).toMatchObject({ done: true });
    const job = (conditions: object[]) => ({ kind: 'Job', metadata: { name: 'buckets' }, status: { conditions } }) as any;
    expect(rolloutStatus(job([{ type: 'Complete', status: 'True' }]))).toMatchObject({ done: true });
    expect(rolloutStatus(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }]))).toMatchObject({ done: false, failed: 'BackoffLimitExceeded' });
    const sts = (status: object) => ({ kind: 'StatefulSet', metadata: { name: 't', generation: 1 }, spec: { replicas: 1 }, status }) as any;
    expect(rolloutStatus(sts({ observedGeneration: 1, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b' }))).toMatchObject({ done: false });
    expect(rolloutStatus(sts({ observedGeneration: 1, readyReplicas: 1, currentRevision: 'b', updateRevision: 'b' }))).toMatchObject({ done: true });
  });

  it('pod problems: a young crash loop and a slow pull are worth waiting for; a missing image and a long crash loop are not', () => {
    expect(podProblem(crashingPod('t', 'tempo', CRASH_RESTART_LIMIT - 1))).toMatchObject({ reason: 'CrashLoopBackOff', fatal: false, previous: true });
    expect(podProblem(crashingPod('t', 'tempo', CRASH_RESTART_LIMIT))).toMatchObject({ fatal: true });
    const pull = (message: string) =>
      podProblem(pod('g', 'grafana', { phase: 'Pending', containerStatuses: [{ name: 'grafana', ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason: 'ImagePullBackOff', message } } }] }));
    expect(pull('Back-off pulling image "i": manifest unknown')).toMatchObject({ fatal: true });
    expect(pull('Back-off pulling image "i": dial tcp: i/o timeout')).toMatchObject({ fatal: false });
    expect(podProblem(readyPod('g', 'grafana'))).toBeUndefined();
    const unschedulable = pod('l', 'loki', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient memory.' }] });
    expect(podProblem(unschedulable)).toMatchObject({ reason: 'Unschedulable', fatal: false });
  });

  it('status rows: completed job, crash loop, starting, healthy', () => {
    expect(componentState([pod('b', 'buckets', { phase: 'Succeeded' })], true)).toMatchObject({ state: 'completed' });
    expect(componentState([crashingPod('t', 'tempo', 4)], false)).toMatchObject({ state: 'restarting', health: 'unhealthy' });
    expect(componentState([pod('t', 'tempo', { phase: 'Pending' })], false)).toMatchObject({ state: 'starting', health: 'starting' });
    expect(componentState([readyPod('t', 'tempo')], false)).toMatchObject({ state: 'running', health: 'healthy', detail: '1/1 ready' });
    expect(componentState([], false)).toMatchObject({ state: 'missing' });
  });
});
