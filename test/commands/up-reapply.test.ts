/**
 * `up` on a stack that is already healthy: compose stops at "already running" (it changes nothing), kind applies
 * again (idempotent server-side apply), so what a newer mop-sandbox or a changed config brings reaches the cluster.
 * Through the CLI's runner with strict fake runtimes: this checks the command's decision, the runtimes are tested on
 * their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../scripts/run.js';
import { fakeRuntime, fakeRuntimes, noExec, type FakeRuntime } from '../support/fake-runtime.js';

const state = mkdtempSync(join(tmpdir(), 'mop-up-reapply-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

function healthyRuntime(name: 'compose' | 'kind', reapplies: boolean): FakeRuntime {
  const rt = fakeRuntime(name, {
    preflight: async () => [{ id: 'docker', title: 'docker', ok: true, severity: 'error' as const, detail: 'ok' }],
    status: async () => [{ name: 'grafana' as const, state: 'running' as const, health: 'healthy' as const }],
    ...(reapplies ? { keptData: async () => [], up: async () => ({ grafana: 1 }) } : {}),
  });
  return reapplies ? Object.assign(rt, { reappliesWhenRunning: true }) : rt;
}

async function runUp(runtime: FakeRuntime) {
  let text = '';
  const exec = noExec();
  const code = await runCli(['up', '--no-open', ...(runtime.name === 'kind' ? ['--runtime', 'kind'] : [])], {
    sink: { out: (t) => (text += t), err: (t) => (text += t), isTTY: false },
    exec,
    env: { CI: '1', MOP_STATE_DIR: state, XDG_CONFIG_HOME: state, HOME: state },
    runtimes: fakeRuntimes({ [runtime.name]: runtime }),
  });
  expect([...runtime.unexpected, ...exec.unexpected]).toEqual([]);
  return { code, text };
}

describe('up on a healthy stack', () => {
  it('compose: prints "already running" and does not call up', async () => {
    const runtime = healthyRuntime('compose', false);
    const r = await runUp(runtime);
    expect(r.code).toBe(0);
    expect(r.text).toContain('already running');
    expect(runtime.calls).not.toContain('up');
  });

  it('kind: applies again (a no-op unless something changed)', async () => {
    const runtime = healthyRuntime('kind', true);
    const r = await runUp(runtime);
    expect(r.code).toBe(0);
    expect(runtime.calls.filter((c) => c === 'up')).toHaveLength(1);
    expect(r.text).not.toContain('already running');
  });
});
