/**
 * `verify --port-forward`: reaches a kind cluster whose ports are not published (as the deployment guide's
 * integration test does) with one `kubectl port-forward svc/<component> :<port>` per port verify talks to, through
 * our own kubeconfig. kubectl picks a free local port and prints "Forwarding from 127.0.0.1:<local> -> <port>".
 */
import type { Exec } from '../lib/exec.js';
import { ExitCode, UserError } from '../lib/errors.js';
import { clusterName, kindPaths } from '../runtimes/kind/context.js';
import type { ComponentName, Stack } from '../stack/model.js';

export interface Forwarded {
  /** `${component}:${containerPort}` → local port. */
  ports: Map<string, number>;
  close(): void;
}

export const forwardKey = (component: ComponentName, port: number) => `${component}:${port}`;

export async function portForward(exec: Exec, env: NodeJS.ProcessEnv, stack: Stack, targets: { component: ComponentName; port: number }[], timeoutMs = 15_000): Promise<Forwarded> {
  const cluster = clusterName(env);
  const { kubeconfig } = kindPaths(env, cluster);
  const stop = new AbortController();
  const ports = new Map<string, number>();
  const waits = targets.map(
    ({ component, port }) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`kubectl port-forward svc/${component} ${port}: no "Forwarding from" line within ${timeoutMs / 1000}s`)), timeoutMs);
        const args = ['--kubeconfig', kubeconfig, '--context', `kind-${cluster}`, '-n', stack.profile.namespace, 'port-forward', `svc/${component}`, `:${port}`];
        exec
          .run('kubectl', args, {
            allowFail: true,
            signal: stop.signal,
            onStdout(chunk) {
              const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(chunk);
              if (m && !ports.has(forwardKey(component, port))) {
                ports.set(forwardKey(component, port), Number(m[1]));
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .then((r) => {
            clearTimeout(timer);
            if (!ports.has(forwardKey(component, port))) reject(new Error(`kubectl port-forward svc/${component} ${port} exited: ${r.stderr.trim().split('\n').pop() ?? ''}`));
          })
          .catch(reject);
      }),
  );
  try {
    await Promise.all(waits);
  } catch (e) {
    stop.abort();
    throw new UserError({
      what: 'cannot port-forward to the kind cluster',
      why: (e as Error).message,
      next: `check the cluster with \`kubectl --kubeconfig ${kubeconfig} --context kind-${cluster} -n ${stack.profile.namespace} get svc\`, or run verify without --port-forward (the ports are published on 127.0.0.1)`,
      exitCode: ExitCode.preflight,
      code: 'PORT_FORWARD_FAILED',
    });
  }
  return { ports, close: () => stop.abort() };
}
