/** The kind runtime's preflight (scripts/runtimes/kind/preflight.ts), against the recorded shell of ./world.ts. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { preflightError, parseBytes } from '../../../scripts/runtimes/preflight.js';
import { KIND_INSTALL } from '../../../scripts/runtimes/kind/context.js';
import { INOTIFY_FIX, kubectlVersion, CGROUP_V2_FIX, cpuMilli, KIND_CONTROL_PLANE } from '../../../scripts/runtimes/kind/preflight.js';
import { buildStack, type Stack } from '../../../scripts/stack/model.js';
import { capturedOutput, dockerInfoFixture, fakeDocker, type Rule } from '../kind-shell.js';
import { parse as parseYaml } from 'yaml';
import { CGROUP_V1_KUBELET_PATCH } from '../../../scripts/render/kind.js';
import { fallbackResources, profiles } from '../../../scripts/stack/profiles.js';
import { creds, K, GET_ALL, setup, workloadList, nodeRules } from './world.js';

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
