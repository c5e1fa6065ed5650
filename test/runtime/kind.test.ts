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
import { preflightError } from '../../scripts/runtimes/preflight.js';
import { kindClusterConfig } from '../../scripts/render/kind.js';
import { kubernetesObjects, type KubeObject } from '../../scripts/render/kubernetes.js';
import { createKindRuntime } from '../../scripts/runtimes/kind/index.js';
import { KIND_INSTALL, type KindDeps } from '../../scripts/runtimes/kind/context.js';
import { bindingsToMappings, configMappings, workloadsOf } from '../../scripts/runtimes/kind/start.js';
import { DOWN_CLUSTER_SCOPED, DOWN_KEEPS, DOWN_NAMESPACED } from '../../scripts/runtimes/kind/teardown.js';
import { INOTIFY_FIX, kubectlVersion } from '../../scripts/runtimes/kind/preflight.js';
import { componentState, podProblem, rolloutStatus, CRASH_RESTART_LIMIT } from '../../scripts/runtimes/kind/kube-state.js';
import { imagesOf, normalizeImage } from '../../scripts/runtimes/kind/images.js';
import { buildStack, type Stack } from '../../scripts/stack/model.js';
import { images, imageRef } from '../../scripts/stack/versions.js';
import { capturedOutput, dockerInfoFixture, fakeDocker, recordedShell, sandbox, type Rule } from './kind-shell.js';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { CGROUP_V1_KUBELET_PATCH } from '../../scripts/render/kind.js';
import { IMAGE_ID_ANNOTATION } from '../../scripts/render/kubernetes.js';
import { CGROUP_V2_FIX, cpuMilli, KIND_CONTROL_PLANE } from '../../scripts/runtimes/kind/preflight.js';
import { parseBytes } from '../../scripts/runtimes/preflight.js';
import { fallbackResources, profiles } from '../../scripts/stack/profiles.js';

const creds = { GRAFANA_ADMIN_PASSWORD: 'pw', S3_ACCESS_KEY_ID: 'mopkey', S3_SECRET_ACCESS_KEY: 'secret', DEMO_CONTROL_TOKEN: 'token', S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc', S3_TEMPO_SECRET_ACCESS_KEY: 's3-tempo-sec', S3_MIMIR_ACCESS_KEY_ID: 's3-mimir-acc', S3_MIMIR_SECRET_ACCESS_KEY: 's3-mimir-sec', S3_LOKI_ACCESS_KEY_ID: 's3-loki-acc', S3_LOKI_SECRET_ACCESS_KEY: 's3-loki-sec' };
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
const DEMO_ID = 'sha256:3f2a9c81d0e4b7a65c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b';
const NODE = 'docker exec mop-sandbox-control-plane crictl';

/** Every image the render pulls (not the built demo), as `crictl images -o json` lists them once present. */
function criImages(stack: Stack, box: { sources: Sources }) {
  const built = new Set(stack.components.filter((c) => c.build).map((c) => c.image));
  return JSON.stringify({
    images: imagesOf(kubernetesObjects(stack, { sources: box.sources }), built).map((ref) => {
      const n = normalizeImage(ref);
      return { repoTags: n.tag ? [`${n.name}:${n.tag}`] : [], repoDigests: n.digest ? [`${n.name}@${n.digest}`] : [] };
    }),
  });
}

/** `kubectl version -o json` of a kubectl and server one minor apart. */
const VERSIONS = JSON.stringify({ clientVersion: { gitVersion: 'v1.36.2' }, serverVersion: { gitVersion: 'v1.35.8' } });

/** After the cluster exists: the demo's image ID, the node already holding every image, the version check. */
function nodeRules(stack: Stack, box: { sources: Sources }): Rule[] {
  return [
    ["docker image inspect --format \"{{.Id}}\"", { stdout: `${DEMO_ID}\n` }],
    [`${NODE} images -o json`, { stdout: criImages(stack, box) }],
    [`${K} version -o json`, { stdout: VERSIONS }],
  ];
}

/** The answers of a healthy machine where the cluster does not exist yet. */
function freshClusterRules(stack: Stack, polls: string[], box: { sources: Sources }): Rule[] {
  let poll = 0;
  return [
    ['kind get clusters', { stdout: '', stderr: 'No kind clusters found.\n' }],
    ['kind create cluster', { stderr: 'Creating cluster "mop-sandbox" ...\n' }],
    ['docker build', { stdout: 'built' }],
    ['kind load docker-image', {}],
    ...nodeRules(stack, box),
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
    expect(sh.calls).toEqual(['kind version', 'kubectl version --client -o json', 'kind get clusters']);
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
    // A scripted clock: every reading moves it 1 s on, so the times to ready are exact.
    let clock = 0;
    const box = await setup(stack, [], { now: () => (clock += 1_000) });
    const notReady = workloadList(box, stack, (c) => c !== 'tempo', [
      pod('tempo-0', 'tempo', {
        phase: 'Pending',
        initContainerStatuses: [{ name: 'wait-for-buckets', ready: false, restartCount: 0, image: 'mc', imageID: '', state: { running: {} } }],
      }),
    ]);
    box.sh.rules.push(...freshClusterRules(stack, [notReady, workloadList(box, stack, true)], box));
    const { out, text } = capturedOutput();
    const times = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });

    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `kind create cluster --name mop-sandbox --config ${DIR}/kind-cluster.yaml --kubeconfig ${DIR}/kubeconfig --wait 60s`,
      `docker build -f /pkg/demo-app/Dockerfile -t ${demoImage(stack)} /pkg`,
      `kind load docker-image ${demoImage(stack)} --name mop-sandbox`,
      `docker image inspect --format "{{.Id}}" ${demoImage(stack)}`,
      `${NODE} images -o json`,
      `${K} version -o json`,
      `${K} apply --server-side --force-conflicts --field-manager=mop-sandbox -f ${DIR}/manifests`,
      GET_ALL,
      GET_ALL,
    ]);
    // The demo's pod template carries the image ID, so a rebuilt image rolls out.
    expect(readFileSync(join(box.dir, 'manifests', '17-demo.yaml'), 'utf8')).toContain(`mop-sandbox/image-id: ${DEMO_ID}`);
    const components = ['store', 'buckets', 'tempo', 'mimir', 'loki', 'alloy', 'grafana', 'demo', 'gateway'];
    expect(Object.keys(times).sort()).toEqual([...components].sort());
    // The first poll (1 s in) finds everything but tempo ready; the second (2 s in) finds tempo ready too.
    expect(times).toEqual(Object.fromEntries(components.map((c) => [c, c === 'tempo' ? 2 : 1])));
    // Progress: the waiting reason, then one line per component with its time to ready.
    expect(text()).toContain('tempo: Init:wait-for-buckets');
    for (const c of components) expect(text()).toMatch(new RegExp(`✓ ${c}\\s+ready in ${c === 'tempo' ? '2.0' : '1.0'}s`));

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

  it('existing cluster with the same port mappings: reuse it, refresh our kubeconfig, re-run the bucket job, never create', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(stack)) }));
    box.sh.rules.push(
      ['kind get clusters', { stdout: 'other\nmop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get statefulsets,persistentvolumeclaims`, { stdout: '{"items":[]}' }],
      ['docker build', {}],
      ['kind load docker-image', {}],
      ...nodeRules(stack, box),
      [`${K} delete -n mop-system job/buckets --ignore-not-found`, {}],
      [`${K} get deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies`, { stdout: '{"items":[]}' }],
      [`${K} get clusterroles,clusterrolebindings`, { stdout: '{"items":[]}' }],
      [`${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system`, { stdout: '' }],
      [`${K} apply`, {}],
      [GET_ALL, { stdout: workloadList(box, stack, true) }],
    );
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls).toEqual([
      'kind get clusters',
      `kind export kubeconfig --name mop-sandbox --kubeconfig ${DIR}/kubeconfig`,
      `${K} get statefulsets,persistentvolumeclaims -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
      `docker build -f /pkg/demo-app/Dockerfile -t ${demoImage(stack)} /pkg`,
      `kind load docker-image ${demoImage(stack)} --name mop-sandbox`,
      `docker image inspect --format "{{.Id}}" ${demoImage(stack)}`,
      `${NODE} images -o json`,
      `${K} version -o json`,
      `${K} delete -n mop-system job/buckets --ignore-not-found`,
      `${K} get deployments,statefulsets,daemonsets,jobs,services,configmaps,serviceaccounts,roles,rolebindings,networkpolicies -n mop-system -l app.kubernetes.io/part-of=mop-sandbox -o json`,
      `${K} get clusterroles,clusterrolebindings -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o json`,
      `${K} get namespaces -l app.kubernetes.io/part-of=mop-sandbox,mop-sandbox/namespace=mop-system -o name`,
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

  it('a NodePort held by another profile\'s namespace: the apply error says to run down first', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    box.sh.rules.push(
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      ...nodeRules(stack, box),
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
    await rt.logs(undefined, {
      follow: true,
      tail: 10,
      signal: ctl.signal,
      write: (l) => {
        lines.push(l);
        if (lines.length === 2) ctl.abort();
      },
    });
    // Returning at all is the point: a follow that ignored the abort would run until the test's timeout.
    expect(lines).toEqual(['tempo | first', 'loki | second']);
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

describe('kind preflight on a small or cgroup v1 engine (recorded shell, `docker info` fixtures)', () => {
  const versions: Rule[] = [
    ['kind version', { stdout: 'kind v0.33.0 go1.24.2 linux/amd64\n' }],
    ['kubectl version --client', { stdout: JSON.stringify({ clientVersion: { gitVersion: 'v1.36.2' } }) }],
    ['kind get clusters', { stdout: '' }],
  ];
  const colima = dockerInfoFixture('docker-info-colima-2cpu-4gib-cgroup-v2');
  const cgroupV1 = dockerInfoFixture('docker-info-cgroup-v1');

  /** CPU millicores and memory the profile's pods request, summed by hand from profiles.ts (the code counts the render). */
  function expectedRequests(profile: 'default' | 'dev' | 'prod', stack: Stack) {
    let cpu = 0;
    let mem = 0;
    for (const c of stack.components) {
      const r = profiles[profile].resources[c.name] ?? fallbackResources;
      const n = c.workload === 'DaemonSet' ? 1 : c.replicas;
      cpu += cpuMilli(r.requests.cpu) * n;
      mem += parseBytes(r.requests.memory) * n;
    }
    return { cpu: cpu + KIND_CONTROL_PLANE.cpuMilli, mem: mem + KIND_CONTROL_PLANE.memoryBytes };
  }

  it('2 CPUs / 4 GiB: the default profile does not fit (it needs 2.07 CPUs with the control plane); the error names the dev profile and Colima\'s fix', async () => {
    const stack = buildStack();
    const box = await setup(stack, versions, { docker: fakeDocker(0, colima), platform: 'darwin' });
    const checks = await box.rt.preflight(stack);
    const cpu = checks.find((c) => c.id === 'cpu')!;
    const mem = checks.find((c) => c.id === 'memory')!;
    const want = expectedRequests('default', stack);
    expect(want.cpu).toBe(2070);
    expect(cpu).toMatchObject({ ok: false, severity: 'error' });
    expect(cpu.detail).toBe(
      "the engine has 2 CPUs; the cluster requests 2.07 CPUs (the default profile's pods 1.12 CPUs / 2.5 GiB + kind's control plane 0.95 CPUs / 0.3 GiB), so some pods would never be scheduled",
    );
    // The ask is what the profile requests (2.07 CPUs, 2.8 GiB) rounded up, plus 1 GiB for the VM's own system.
    expect(cpu.fix).toBe('use `--profile dev` (it fits this engine), or restart Colima with 3 CPUs and 4 GiB: `colima stop && colima start --cpu 3 --memory 4`');
    // Memory fits: 2.7 GiB requested (alloy counted twice) of the 3.8 GiB a 4 GiB VM reports.
    expect(mem).toMatchObject({ ok: true, detail: `3.8 GiB available, ${(want.mem / 1024 ** 3).toFixed(1)} GiB requested (control plane included)` });
    const err = preflightError(checks)!;
    expect(err).toMatchObject({ exitCode: ExitCode.preflight });
    expect(err.what).toBe(cpu.detail);
  });

  it('2 CPUs / 4 GiB: the dev profile fits, and prod asks for what its replicas need', async () => {
    const dev = buildStack({ profile: 'dev' });
    const box = await setup(dev, versions, { docker: fakeDocker(0, colima), platform: 'darwin' });
    const checks = await box.rt.preflight(dev);
    expect(expectedRequests('dev', dev).cpu).toBe(1520);
    expect(checks.find((c) => c.id === 'cpu')).toMatchObject({ ok: true, detail: '2 CPUs available, 1.52 CPUs requested (control plane included)' });
    expect(preflightError(checks)).toBeUndefined();

    const prod = buildStack({ profile: 'prod', s3Endpoint: 's3.example.com:443' });
    const p = await setup(prod, versions, { docker: fakeDocker(0, colima), platform: 'darwin' });
    const cpu = (await p.rt.preflight(prod)).find((c) => c.id === 'cpu')!;
    // alloy ×3, mimir ×3, loki ×3: counted per replica.
    expect(expectedRequests('prod', prod).cpu).toBe(4570);
    expect(cpu.detail).toContain('the cluster requests 4.57 CPUs');
    expect(cpu.fix).toContain('--profile dev');
  });

  it('memory counts replicas and the control plane: a 2 GiB engine refuses the default profile and names dev', async () => {
    const stack = buildStack();
    const small = { ...colima, MemTotal: 2 * 1024 ** 3, NCPU: 8 };
    const box = await setup(stack, versions, { docker: fakeDocker(0, small), platform: 'darwin' });
    const mem = (await box.rt.preflight(stack)).find((c) => c.id === 'memory')!;
    const want = expectedRequests('default', stack);
    expect(mem).toMatchObject({ ok: false, severity: 'error' });
    expect(mem.detail).toContain(`the cluster requests ${(want.mem / 1024 ** 3).toFixed(1)} GiB`);
    expect(mem.fix).toContain('`--profile dev`');
  });

  it('cgroup v1 engine (real `docker info` of this CI host): a warning with the cgroup v2 fix, and the new cluster gets failCgroupV1: false', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack, versions, { docker: fakeDocker(0, cgroupV1) });
    const checks = await box.rt.preflight(stack);
    const cgroup = checks.find((c) => c.id === 'cgroup')!;
    expect(cgroup).toMatchObject({ ok: false, severity: 'warn', fix: CGROUP_V2_FIX });
    expect(cgroup.detail).toContain('cgroup v1');
    expect(cgroup.detail).toContain('failCgroupV1: false');
    // A warning: preflight does not stop `up` for it (the kubelet is configured to run).
    expect(preflightError(checks.filter((c) => c.id === 'cgroup'))).toBeUndefined();

    box.sh.rules.push(['kind create cluster', {}], ...nodeRules(stack, box), [`${K} apply`, {}], [GET_ALL, { stdout: workloadList(box, stack, true) }]);
    const { out } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    const config = parseYaml(readFileSync(join(box.dir, 'kind-cluster.yaml'), 'utf8'));
    expect(config.kubeadmConfigPatches).toEqual([CGROUP_V1_KUBELET_PATCH]);
    expect(parseYaml(config.kubeadmConfigPatches[0])).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', failCgroupV1: false });
  });

  it('cgroup v2 engine: the check passes and the cluster config has no kubelet patch', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack, versions, { docker: fakeDocker(0, colima) });
    expect((await box.rt.preflight(stack)).find((c) => c.id === 'cgroup')).toMatchObject({ ok: true, detail: 'cgroup v2' });
    box.sh.rules.push(['kind create cluster', {}], ...nodeRules(stack, box), [`${K} apply`, {}], [GET_ALL, { stdout: workloadList(box, stack, true) }]);
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    expect(parseYaml(readFileSync(join(box.dir, 'kind-cluster.yaml'), 'utf8')).kubeadmConfigPatches).toBeUndefined();
  });

  it('Podman: a warning that kind\'s Podman provider is experimental', async () => {
    const stack = buildStack({ demo: false });
    const podman = { ...fakeDocker(0, colima), version: async () => ({ Version: '5.2.0', ApiVersion: '1.41', Components: [{ Name: 'Podman Engine', Version: '5.2.0' }] }) } as any;
    const box = await setup(stack, versions, { docker: podman });
    expect((await box.rt.preflight(stack)).find((c) => c.id === 'podman')).toMatchObject({ ok: false, severity: 'warn', detail: expect.stringContaining('experimental') });
  });

  it('parses the kubectl client version from JSON, from text, and from kubectl before 1.28 (version.Info{...})', () => {
    expect(kubectlVersion(JSON.stringify({ clientVersion: { gitVersion: 'v1.37.0' } }), 'client')).toBe('v1.37.0');
    expect(kubectlVersion('Client Version: v1.32.4\nKustomize Version: v5.5.0\n', 'client')).toBe('v1.32.4');
    expect(kubectlVersion('Client Version: version.Info{Major:"1", Minor:"27", GitVersion:"v1.27.3", GitCommit:"25b4e43"}\n', 'client')).toBe('v1.27.3');
  });
});

describe('kind up: images, rollout, prune, profile switch (recorded shell)', () => {
  it('pulls every image into the node before the readiness clock starts: 8 slow pulls do not eat a 180 s deadline', async () => {
    const stack = buildStack();
    let clock = 0;
    const box = await setup(stack, [], { now: () => clock });
    const images = imagesOf(kubernetesObjects(stack, { sources: box.sources }), new Set([demoImage(stack)]));
    expect(images.length).toBeGreaterThanOrEqual(7);
    box.sh.rules.push(
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      ['docker build', {}],
      ['kind load docker-image', {}],
      ['docker image inspect --format "{{.Id}}"', { stdout: DEMO_ID }],
      [`${NODE} images -o json`, { stdout: '{"images":[]}' }],
      [
        `${NODE} pull`,
        () => {
          clock += 100_000; // every pull takes 100 s
          return { stdout: 'Image is up to date for sha256:…' };
        },
      ],
      [`${K} version -o json`, { stdout: VERSIONS }],
      [`${K} apply`, {}],
      [GET_ALL, () => ((clock += 1000), { stdout: workloadList(box, stack, true) })],
    );
    const { out, text } = capturedOutput();
    const times = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out, readyTimeoutMs: 180_000 });
    const pulls = box.sh.calls.filter((c) => c.startsWith(`${NODE} pull`));
    expect(pulls).toEqual(images.map((i) => `${NODE} pull ${i}`));
    const lastPull = box.sh.calls.lastIndexOf(pulls.at(-1)!);
    expect(box.sh.calls.findIndex((c) => c.startsWith(`${K} apply`))).toBeGreaterThan(lastPull);
    // The deadline measured readiness only: ready a second after apply, not 800 s after the start.
    for (const t of Object.values(times)) expect(t).toBeLessThan(5);
    // Progress: one line per pulled image.
    for (const i of images) expect(text()).toMatch(new RegExp(`✓ pull ${i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(into the kind node\\)\\s+\\d+\\.\\ds`));
  });

  it('images the node already holds are not pulled again', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    box.sh.rules.push(...freshClusterRules(stack, [workloadList(box, stack, true)], box));
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls.some((c) => c.startsWith(`${NODE} pull`))).toBe(false);
    expect(text()).toMatch(/images: all \d+ present in the kind node/);
  });

  it('a node it cannot list images in: no pre-pull, a warning, and up goes on (the kubelet pulls)', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    box.sh.rules.push(...freshClusterRules(stack, [workloadList(box, stack, true)], box));
    box.sh.rules.unshift([`${NODE} images -o json`, { exitCode: 1, stderr: 'Error response from daemon: No such container: mop-sandbox-control-plane' }]);
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls.some((c) => c.startsWith(`${NODE} pull`))).toBe(false);
    expect(text()).toContain('could not list the images in the kind node mop-sandbox-control-plane (Error response from daemon: No such container');
  });

  it('a pull that fails for good stops before apply, with the save + `kind load image-archive` fix', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack, [
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      [`${NODE} images -o json`, { stdout: '{"images":[]}' }],
      [`${NODE} pull`, (line) => (line.includes('grafana/grafana') ? { exitCode: 1, stderr: 'E1129 pull failed: rpc error: ... grafana/grafana: not found' } : {})],
    ]);
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'IMAGE_PULL_FAILED', exitCode: ExitCode.preflight });
    expect(err.what).toMatch(/^could not pull grafana\/grafana:\S+ into the kind node$/);
    expect(err.next).toContain('kind load image-archive image.tar --name mop-sandbox');
    expect(box.sh.calls.some((c) => c.includes(' apply '))).toBe(false);
    // Definitive ("not found"): no retries.
    expect(box.sh.calls.filter((c) => c.includes('pull grafana/grafana'))).toHaveLength(1);
  });

  it('a rebuilt demo image rolls out: its new image ID changes the applied pod template', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    const existing = (id: string): Rule[] => [
      [GET_ALL, { stdout: workloadList(box, stack, true) }],
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get`, { stdout: '{"items":[]}' }],
      ['docker build', {}],
      ['kind load docker-image', {}],
      ['docker image inspect --format "{{.Id}}"', { stdout: id }],
      [`${NODE} images -o json`, { stdout: criImages(stack, box) }],
      [`${K} version -o json`, { stdout: VERSIONS }],
      [`${K} delete`, {}],
      [`${K} apply`, {}],
    ];
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(stack)) }));
    const demoTemplate = () => parseAllDocuments(readFileSync(join(box.dir, 'manifests', '17-demo.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'Deployment').spec.template;
    box.sh.rules = existing('sha256:1111');
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    const first = demoTemplate();
    box.sh.rules = existing('sha256:2222');
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    const second = demoTemplate();
    expect(first.metadata.annotations[IMAGE_ID_ANNOTATION]).toBe('sha256:1111');
    expect(second.metadata.annotations[IMAGE_ID_ANNOTATION]).toBe('sha256:2222');
    // Same tag both times: only the annotation tells Kubernetes the template changed.
    expect(second.spec.containers[0].image).toBe(first.spec.containers[0].image);
  });

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

  it('warns when kubectl is more than one minor version from the server', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    box.sh.rules.push(...freshClusterRules(stack, [workloadList(box, stack, true)], box));
    box.sh.rules.unshift([`${K} version -o json`, { stdout: JSON.stringify({ clientVersion: { gitVersion: 'v1.37.0' }, serverVersion: { gitVersion: 'v1.35.8' } }) }]);
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(text()).toContain("warning: kubectl v1.37.0 is 2 minor versions away from the cluster's v1.35.8; kubectl supports ±1");
    const quiet = await setup(stack);
    quiet.sh.rules.push(...freshClusterRules(stack, [workloadList(quiet, stack, true)], quiet));
    const q = capturedOutput();
    await quiet.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: q.out });
    expect(q.text()).not.toContain('minor versions away');
  });
});
