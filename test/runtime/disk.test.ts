import { describe, expect, it } from 'vitest';
import { checkDisk, diskFullLine, diskLow, diskNeeds, readDisk } from '../../scripts/runtimes/disk.js';
import { preflightError } from '../../scripts/runtimes/preflight.js';
import { buildStack } from '../../scripts/stack/model.js';

const GiB = 1024 ** 3;
const local = { product: 'dockerd' as const, rootDir: '/var/lib/docker', endpoint: { host: 'unix:///var/run/docker.sock', source: 'default' as const } };

describe('free disk where Docker keeps volumes', () => {
  it('the model declares what each stateful component needs; the profile sums them', () => {
    const stack = buildStack({ demo: true });
    expect(Object.fromEntries(stack.components.filter((c) => c.diskNeed).map((c) => [c.name, c.diskNeed]))).toEqual({
      store: '2Gi', tempo: '1Gi', mimir: '1Gi', loki: '1Gi', alloy: '256Mi', grafana: '256Mi',
    });
    expect(diskNeeds(stack)).toBe(5.5 * GiB);
    expect(diskNeeds(buildStack({ profile: 'dev' }))).toBeLessThan(diskNeeds(stack));
  });

  it('measures DockerRootDir with statfs on a local dockerd: enough, little room (warn), too little (error, DISK_LOW)', async () => {
    const stack = buildStack({});
    const paths: string[] = [];
    const at = (free: number) => readDisk(stack, local, async (p) => (paths.push(p), free));
    const plenty = checkDisk(stack, await at(100 * GiB));
    expect(plenty).toMatchObject({ ok: true, detail: '100.0 GiB free at /var/lib/docker, 5.5 GiB needed' });
    expect(paths).toEqual(['/var/lib/docker']);
    const tight = checkDisk(stack, await at(8 * GiB));
    expect(tight).toMatchObject({ ok: false, severity: 'warn' });
    const low = await at(2 * GiB);
    expect(diskLow(low)).toBe(true);
    const check = checkDisk(stack, low);
    expect(check).toMatchObject({ ok: false, severity: 'error', detail: "2.0 GiB free at /var/lib/docker; the default profile's data needs 5.5 GiB" });
    expect(check.fix).toMatch(/docker system df/);
    expect(check.fix).not.toMatch(/prune/); // never advise deleting what other projects keep
    expect(preflightError([check])).toMatchObject({ code: 'DISK_LOW', exitCode: 3 });
  });

  it('an engine in a VM or on another machine is not measured, and says so (no guess)', async () => {
    const stack = buildStack({});
    const never = async () => {
      throw new Error('must not be called');
    };
    const vm = await readDisk(stack, { ...local, product: 'Docker Desktop' }, never);
    expect(vm.free).toBeUndefined();
    expect(vm.unmeasured).toBe('Docker Desktop keeps it in its VM');
    expect(checkDisk(stack, vm)).toMatchObject({ ok: true, severity: 'warn' });
    const remote = await readDisk(stack, { ...local, endpoint: { host: 'tcp://10.0.0.5:2376', source: 'DOCKER_HOST' } }, never);
    expect(remote.unmeasured).toBe('the engine runs on another machine');
    // Podman on Linux keeps its storage on this machine (measured); Podman machine on a Mac keeps it in its VM.
    const podman = { rootDir: '/var/lib/containers/storage', product: 'Podman' as const, endpoint: { host: 'unix:///run/podman/podman.sock', source: 'default' as const } };
    expect((await readDisk(stack, podman, async () => 100 * 1024 ** 3, 'linux')).free).toBe(100 * 1024 ** 3);
    expect((await readDisk(stack, podman, never, 'darwin')).unmeasured).toBe('Podman keeps it in its VM');
  });

  it('finds a disk-full line in a log tail', () => {
    expect(diskFullLine(['ok', 'level=error msg="write /loki/chunks/x: no space left on device"'])).toContain('no space left');
    expect(diskFullLine(['all good'])).toBeUndefined();
  });
});
