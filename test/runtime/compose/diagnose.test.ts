/** What compose's `up` tells the user when it does not finish, and Ctrl-C (scripts/runtimes/compose/diagnose.ts); against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../scripts/lib/errors.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { credentials, project, hostPortOf, world, composeCalls } from './world.js';

describe('compose runtime: up', () => {
  it('names a component that exits, with its last log lines and the next step (exit 4)', async () => {
    const w = world({ override: { tempo: { state: 'exited', exitCode: 1, logs: ['level=info msg=starting', 'level=error msg="bucket does not exist"'] } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ code: 'COMPONENT_FAILED', exitCode: ExitCode.notReady, what: 'tempo exited with code 1' });
    expect(err.details).toEqual(['last 2 log lines of tempo (unit-tempo-1):', '  | level=info msg=starting', '  | level=error msg="bucket does not exist"']);
    expect(err.next).toMatch(/mop-sandbox logs tempo/);
    expect(w.cap.text()).toMatch(/✗ tempo\s+exited with code 1/);
  });

  it('fails a one-shot job that exits non-zero', async () => {
    const w = world({ override: { buckets: { state: 'exited', exitCode: 1, logs: ['mc: <ERROR> Unable to make bucket'] } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err.what).toBe('buckets exited with code 1 before finishing its job');
  });

  it('names a component that is not ready in time', async () => {
    const stack = buildStack({ demo: false });
    const w = world({ stack, http: (url) => (url.endsWith(`:${hostPortOf(stack, 'tempo', 3200)}/ready`) ? { status: 503 } : { status: 200 }) });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out, readyTimeoutMs: 200 }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_TIMEOUT', exitCode: ExitCode.notReady, what: 'tempo not ready after 0.2s' });
    expect(err.why).toBe('tempo: starting (HTTP 503 from /ready)');
    expect(err.next).toMatch(/--timeout/);
  });

  it('turns a port taken between preflight and start into PORT_IN_USE (exit 3)', async () => {
    const w = world({
      compose: { up: () => ({ exitCode: 1, stderr: 'Error response from daemon: driver failed programming external connectivity on endpoint unit-grafana-1: Bind for 127.0.0.1:3000 failed: port is already allocated' }) },
    });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'PORT_IN_USE', exitCode: ExitCode.preflight, what: 'host port 3000 was taken while the stack was starting' });
  });

  it('on Ctrl-C stops waiting, removes the containers it started, keeps the volumes (exit 130)', async () => {
    const ac = new AbortController();
    // Ctrl-C arrives while up waits for readiness: on the first probe, after compose up started the containers.
    const w = world({
      http: () => {
        ac.abort(new Error('interrupted'));
        return { error: 'connection refused' };
      },
    });
    const err = await w.runtime.up(w.stack, { credentials, signal: ac.signal, out: w.out }).catch((e) => e);
    expect(composeCalls(w.exec)).toEqual(['up -d --no-build --pull never --remove-orphans']);
    expect(w.fd.calls).toContain(`remove ${project}-tempo-1`);
    expect(err).toMatchObject({ code: 'INTERRUPTED', exitCode: ExitCode.interrupted });
    expect(w.fd.state.containers).toEqual([]);
    expect(w.fd.state.networks).toEqual([]);
    expect(w.fd.state.volumes).toHaveLength(1);
    expect(w.cap.text()).toMatch(/removed \d+ containers/);
  });
});
