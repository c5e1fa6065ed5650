/**
 * The docker compose runtime: `docker compose -p <project> -f <stateDir>/compose/docker-compose.yml ...` (v2) through
 * the exec wrapper to create things, dockerode to look at them (states, health, logs, port holders) and to remove
 * them by the compose project label, so `down` works even when the compose file is gone or the stack is broken.
 */
import type { ComponentName, Stack } from '../../stack/model.js';
import { NotReady, waitForReady } from '../readiness.js';
import type { LogOptions, ReadyTimes, Runtime, UpContext } from '../runtime.js';
import { client, type ComposeContext, type ComposeRuntimeDeps, createComposeContext, credentialEnv, getEngine, ownVolumes } from './context.js';
import { failureError, interrupted } from './diagnose.js';
import { prepareImages } from './images.js';
import { logs } from './logs.js';
import { preflight } from './preflight.js';
import { refuseForeignProject, render, startContainers } from './start.js';
import { disk, exists, status } from './status.js';
import { down, removeContainersAndNetworks } from './teardown.js';
import { baseline, defaultReadyTimeoutMs, observe } from './wait.js';
import { cliEnv } from '../../lib/docker.js';

/** Runs `up`'s stages in order: render, images, start and wait (side by side), and on failure diagnose or sweep. */
async function up(cx: ComposeContext, stack: Stack, ctx: UpContext): Promise<ReadyTimes> {
  const timeoutMs = ctx.readyTimeoutMs ?? defaultReadyTimeoutMs;
  const composeEnv = { ...cliEnv(cx.endpoint, cx.env), ...credentialEnv(ctx.credentials) };
  await refuseForeignProject(cx);
  await render(cx, stack);
  try {
    await prepareImages(cx, stack, ctx, composeEnv);
  } catch (e) {
    if (ctx.signal.aborted) throw interrupted();
    throw e;
  }
  if (ctx.signal.aborted) throw interrupted();

  const before = await baseline(cx);
  // Start and wait at once: `compose up -d` blocks on depends_on (buckets must complete first), and a component
  // that fails meanwhile must stop the wait, so the watcher runs beside it from the first second.
  const startedAt = Date.now();
  const inner = new AbortController();
  const onAbort = () => inner.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let startError: Error | undefined;
  const start = startContainers(cx, composeEnv, inner.signal)
    .then((r) => {
      if (r.exitCode !== 0 && !inner.signal.aborted) startError = new Error((r.stderr || r.stdout).trim() || `exit code ${r.exitCode}`);
    })
    .catch((e: Error) => {
      if (!inner.signal.aborted) startError = e;
    });
  const names = stack.components.map((c) => c.name);
  const groupSteps = ctx.out.group(names);
  const steps = new Map(names.map((n, i) => [n, groupSteps[i]] as const));
  try {
    const ready = await waitForReady({
      components: names,
      observe: (pending) => observe(cx, stack, pending, before),
      startedAt,
      timeoutMs,
      intervalMs: cx.deps.intervalMs ?? 200,
      signal: ctx.signal,
      external: () => startError,
      onWaiting: (n, detail) => steps.get(n)?.update(detail),
      onReady: (n, s) => steps.get(n)?.ok(`${n === 'buckets' ? `created ${stack.buckets.map((b) => b.name).join(', ')} in` : stack.components.find((c) => c.name === n)?.oneShot ? 'done in' : 'ready in'} ${s.toFixed(1)}s`),
    });
    await start;
    return ready;
  } catch (e) {
    inner.abort();
    // Let the compose process end before sweeping, so nothing is created behind our back.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([start, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    if (ctx.signal.aborted) {
      for (const s of steps.values()) s.fail('interrupted');
      const sweep = ctx.out.step('interrupted: removing the containers started so far (data volumes stay)');
      const first = await removeContainersAndNetworks(cx).catch(() => ({ containers: 0, networks: 0 }));
      // A create request compose sent just before it ended may land after the first sweep.
      await new Promise((r) => setTimeout(r, 300));
      const second = await removeContainersAndNetworks(cx).catch(() => ({ containers: 0, networks: 0 }));
      sweep.ok(`removed ${first.containers + second.containers} containers`);
      throw interrupted();
    }
    if (e instanceof NotReady) {
      for (const [n, s] of steps) s.fail(e.components.includes(n) ? (e.reason === 'timeout' ? 'not ready' : e.detail) : 'stopped waiting');
      throw await failureError(cx, stack, e, timeoutMs);
    }
    for (const s of steps.values()) s.fail();
    throw e;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
}

export function createComposeRuntime(deps: ComposeRuntimeDeps) {
  const cx = createComposeContext(deps);
  return {
    name: 'compose' as const,
    project: cx.project,
    file: cx.file,
    endpoint: cx.endpoint,
    engine: () => getEngine(cx),
    /** The Docker client (dockerode unless injected). */
    docker: () => client(cx),
    preflight: (stack: Stack) => preflight(cx, stack),
    exists: () => exists(cx),
    keptData: async () => (await ownVolumes(cx)).map((name) => `volume ${name}`),
    up: (stack: Stack, ctx: UpContext) => up(cx, stack, ctx),
    status: (stack: Stack) => status(cx, stack),
    disk: (stack: Stack) => disk(cx, stack),
    logs: (component: ComponentName | undefined, opts: LogOptions) => logs(cx, component, opts),
    down: (opts: { purge: boolean }) => down(cx, opts),
  } satisfies Runtime & Record<string, unknown>;
}

export type ComposeRuntime = ReturnType<typeof createComposeRuntime>;
export type { ComposeRuntimeDeps } from './context.js';
