/**
 * `up` on a stack that is already healthy: compose stops at "already running" (it changes nothing), kind applies
 * again (idempotent server-side apply), so what a newer mop-sandbox or a changed config brings reaches the cluster.
 * The runtime is a scripted fake: this checks the command's decision, the runtimes are tested on their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Runtime } from '../../scripts/runtimes/runtime.js';
import { createOutput } from '../../scripts/lib/output.js';

const state = mkdtempSync(join(tmpdir(), 'mop-up-reapply-'));
afterAll(() => rmSync(state, { recursive: true, force: true }));

let current: Runtime;
vi.mock('../../scripts/runtimes/select.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../scripts/runtimes/select.js')>()),
  selectRuntime: async () => ({ runtime: current, reason: 'test' }),
}));

function healthyRuntime(name: 'compose' | 'kind', reapplies: boolean) {
  const up = vi.fn(async () => ({ grafana: 1 }));
  const runtime = {
    name,
    project: 'p',
    ...(reapplies ? { reappliesWhenRunning: true } : {}),
    preflight: async () => [{ id: 'docker', title: 'docker', ok: true, severity: 'error' as const, detail: 'ok' }],
    exists: async () => true,
    status: async () => [{ name: 'grafana' as const, state: 'running' as const, health: 'healthy' as const }],
    up,
  } as unknown as Runtime;
  return { runtime, up };
}

async function runUp() {
  const { command } = await import('../../scripts/commands/up.js');
  let text = '';
  const out = createOutput({ sink: { out: (t) => (text += t), err: (t) => (text += t), isTTY: false } });
  const code = await command.run({
    args: [],
    flags: { 'no-open': true },
    out,
    exec: { run: async () => ({ stdout: '', stderr: '', exitCode: 0 }), which: async () => null },
    env: { MOP_STATE_DIR: state, XDG_CONFIG_HOME: state, HOME: state },
    signal: new AbortController().signal,
  } as any);
  return { code, text };
}

describe('up on a healthy stack', () => {
  it('compose: prints "already running" and does not call up', async () => {
    const { runtime, up } = healthyRuntime('compose', false);
    current = runtime;
    const r = await runUp();
    expect(r.code).toBe(0);
    expect(r.text).toContain('already running');
    expect(up).not.toHaveBeenCalled();
  });

  it('kind: applies again (a no-op unless something changed)', async () => {
    const { runtime, up } = healthyRuntime('kind', true);
    current = runtime;
    const r = await runUp();
    expect(r.code).toBe(0);
    expect(up).toHaveBeenCalledTimes(1);
    expect(r.text).not.toContain('already running');
  });
});
