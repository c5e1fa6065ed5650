/** `down` on compose (scripts/runtimes/compose/teardown.ts), against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { recordingExec } from '../../support/fake-exec.js';
import { createComposeRuntime } from '../../../scripts/runtimes/compose/index.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { fakeDocker } from '../fakes.js';
import { tempDir, containersFor, world, composeCalls } from './world.js';

describe('compose runtime: status, down', () => {
  it('down removes containers and networks by project label and keeps volumes; purge removes them', async () => {
    const stack = buildStack({ demo: false });
    const w = world({ stack, existing: containersFor(stack) });
    expect(await w.runtime.down({ purge: false })).toEqual({ containers: stack.components.length, networks: 1, volumes: 0, volumesKept: 1 });
    expect(w.fd.calls).toContain('stop unit-tempo-1');
    expect(w.fd.state.volumes).toHaveLength(1);
    expect(await w.runtime.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 1, volumesKept: 0 });
    expect(w.fd.state.volumes).toEqual([]);
    // Nothing there: still fine.
    expect(await w.runtime.down({ purge: true })).toEqual({ containers: 0, networks: 0, volumes: 0, volumesKept: 0 });
    expect(composeCalls(w.exec)).toEqual([]);
  });

  it('down with Docker unreachable says so (exit 3)', async () => {
    const fd = fakeDocker({ unreachable: Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }) });
    const rt = createComposeRuntime({ exec: recordingExec(), env: { MOP_PROJECT: 'x', MOP_STATE_DIR: tempDir() }, docker: fd.docker, platform: 'linux' });
    await expect(rt.down({ purge: true })).rejects.toMatchObject({ code: 'DOCKER_UNREACHABLE', exitCode: ExitCode.preflight });
  });
});
