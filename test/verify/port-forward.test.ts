/** verify --port-forward: one kubectl port-forward per target through our kubeconfig, its local port read from kubectl's output. */
import { describe, expect, it } from 'vitest';
import type { Exec, RunOptions, RunResult } from '../../scripts/lib/exec.js';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';
import { buildStack } from '../../scripts/stack/model.js';
import { endpoint, verifyTargets } from '../../scripts/verify/index.js';
import { portForward } from '../../scripts/verify/port-forward.js';

/** kubectl stand-in: prints kubectl's "Forwarding from" line, then runs until aborted (or exits when told to fail). */
function fakeKubectl(fail?: string) {
  const calls: string[][] = [];
  let next = 40000;
  const exec: Exec = {
    which: async () => '/usr/bin/kubectl',
    run(file: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
      calls.push([file, ...args]);
      const remote = args[args.length - 1].slice(1);
      if (fail && args.includes(`svc/${fail}`)) return Promise.resolve({ stdout: '', stderr: `error: services "${fail}" not found`, exitCode: 1 });
      const local = next++;
      queueMicrotask(() => opts.onStdout?.(`Forwarding from 127.0.0.1:${local} -> ${remote}\nForwarding from [::1]:${local} -> ${remote}\n`));
      return new Promise((resolve) => opts.signal?.addEventListener('abort', () => resolve({ stdout: '', stderr: '', exitCode: 0 })));
    },
  };
  return { exec, calls };
}

describe('verify --port-forward', () => {
  const env = { MOP_STATE_DIR: '/tmp/mop-pf-state', MOP_KIND_CLUSTER: 'mop-sandbox' };
  const stack = buildStack({ profile: 'dev' });

  it('forwards every port verify talks to and points the clients at the local ports', async () => {
    const { exec, calls } = fakeKubectl();
    const targets = verifyTargets(stack);
    expect(targets).toContainEqual({ component: 'alloy', port: 4318 });
    expect(targets).toContainEqual({ component: 'grafana', port: 3000 });
    const f = await portForward(exec, env, stack, targets);
    expect(calls[0]).toEqual(['kubectl', '--kubeconfig', '/tmp/mop-pf-state/kind/mop-sandbox/kubeconfig', '--context', 'kind-mop-sandbox', '-n', 'mop-dev', 'port-forward', `svc/${targets[0].component}`, `:${targets[0].port}`]);
    expect(f.ports.size).toBe(targets.length);
    const tempo = f.ports.get('tempo:3200')!;
    expect(endpoint(stack, 'tempo', 3200, f.ports)).toBe(`http://127.0.0.1:${tempo}`);
    f.close();
  });

  it('a forward that cannot start is a precondition error naming the service', async () => {
    const { exec } = fakeKubectl('loki');
    const err = await portForward(exec, env, stack, verifyTargets(stack)).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err).toMatchObject({ exitCode: ExitCode.preflight, code: 'PORT_FORWARD_FAILED' });
    expect(err.why).toContain('services "loki" not found');
  });
});
