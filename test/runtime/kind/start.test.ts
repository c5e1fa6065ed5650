/** `up`'s start stage on kind (scripts/runtimes/kind/start.ts): create or reuse the cluster, port mappings, version skew, apply; against the recorded shell of ./world.ts. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../scripts/lib/errors.js';
import { kindClusterConfig } from '../../../scripts/render/kind.js';
import { bindingsToMappings, configMappings } from '../../../scripts/runtimes/kind/start.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { capturedOutput } from '../kind-shell.js';
import { creds, DIR, K, GET_ALL, setup, workloadList, pod, demoImage, DEMO_ID, NODE, nodeRules, freshClusterRules } from './world.js';

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

describe('kind runtime decisions (pure)', () => {
  it('port mappings: the kind config and docker inspect give the same form; the API server port is not ours', () => {
    const cfg = kindClusterConfig(buildStack());
    const keys = configMappings(cfg);
    const bindings = Object.fromEntries(cfg.nodes[0].extraPortMappings.map((m) => [`${m.containerPort}/tcp`, [{ HostIp: m.listenAddress, HostPort: String(m.hostPort) }]]));
    expect(bindingsToMappings({ ...bindings, '6443/tcp': [{ HostIp: '127.0.0.1', HostPort: '39999' }] })).toEqual(keys);
    expect(keys.every((k) => k.startsWith('127.0.0.1:'))).toBe(true);
  });
});

describe('kind up: images, rollout, prune, profile switch (recorded shell)', () => {
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
