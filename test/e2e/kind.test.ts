/**
 * The kind runtime for real: creates a kind cluster, brings the dev profile up with the real images, checks
 * status and Grafana, takes it down keeping data, and deletes the cluster. Runs only where kind, kubectl, Docker and
 * an image registry are available; elsewhere it skips with one line saying why.
 * Uses its own cluster name and state dir, and free host ports, so it never touches a cluster or stack of yours.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createExec } from '../../scripts/lib/exec.js';
import { createOutput } from '../../scripts/lib/output.js';
import { unusedPort } from '../support/host-ports.js';
import { preflightError } from '../../scripts/runtimes/preflight.js';
import { ensureState } from '../../scripts/lib/state.js';
import { createKindRuntime } from '../../scripts/runtimes/kind/index.js';
import { isHealthy } from '../../scripts/runtimes/runtime.js';
import { buildStack } from '../../scripts/stack/model.js';
import { uiUrl } from '../../scripts/stack/urls.js';
import { runVerify, verifyTargets } from '../../scripts/verify/index.js';
import { portForward } from '../../scripts/verify/port-forward.js';

const exec = createExec();

async function whySkip(): Promise<string | undefined> {
  if (!(await exec.which('kind'))) return 'kind not installed';
  if (!(await exec.which('kubectl'))) return 'kubectl not installed';
  if ((await exec.run('docker', ['info'], { allowFail: true, timeoutMs: 20_000 }).catch(() => ({ exitCode: 1 }))).exitCode !== 0) {
    return 'Docker is not reachable (`docker info` failed)';
  }
  const mirror = process.env.MOP_REGISTRY_MIRROR?.replace(/\/+$/, '');
  const registry = mirror ? `https://${mirror.split('/')[0]}/v2/` : 'https://registry-1.docker.io/v2/';
  try {
    // Any HTTP answer (401 included) means the registry is there.
    await fetch(registry, { signal: AbortSignal.timeout(8000) });
  } catch {
    return `no image registry reachable (${registry})`;
  }
  return undefined;
}

const skip = await whySkip();
if (skip) console.log(`skipping kind e2e: ${skip}`);

describe.skipIf(Boolean(skip))('kind runtime end to end (real kind cluster and images)', () => {
  let stateDir = '';
  let purge: (() => Promise<unknown>) | undefined;

  afterAll(async () => {
    await purge?.().catch(() => undefined);
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
  });

  it('kind create → up → status → verify (published ports and port-forward) → down (data kept) → down --purge', async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'mop-kind-e2e-'));
    const cluster = `mop-e2e-${process.pid}`;
    const env = { ...process.env, MOP_STATE_DIR: stateDir, MOP_KIND_CLUSTER: cluster };
    const hostPorts: Record<string, number> = {};
    for (const p of buildStack({ profile: 'dev' }).published) hostPorts[`${p.component}.${p.name}`] = await unusedPort();
    const stack = buildStack({ profile: 'dev', hostPorts, registryMirror: process.env.MOP_REGISTRY_MIRROR });
    const runtime = createKindRuntime({ exec, env, log: (l) => console.log(`  ${l}`) });
    purge = () => runtime.down({ purge: true });

    const checks = await runtime.preflight(stack);
    expect(preflightError(checks)).toBeUndefined();

    const { credentials } = await ensureState(env);
    const out = createOutput();
    const times = await runtime.up(stack, { credentials, signal: new AbortController().signal, out, readyTimeoutMs: 600_000 });
    expect(Object.keys(times).sort()).toEqual(stack.components.map((c) => c.name).sort());
    expect((await exec.run('kind', ['get', 'clusters'])).stdout).toContain(cluster);
    expect(await runtime.exists()).toBe(true);

    const status = await runtime.status(stack);
    expect(status.filter((s) => !isHealthy(s))).toEqual([]);
    const grafana = uiUrl(stack, 'grafana')!;
    expect(grafana).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${grafana}/api/health`)).status).toBe(200);

    // verify on the published ports, then through kubectl port-forward (as the deployment guide's test does).
    const signal = new AbortController().signal;
    const verified = await runVerify({ stack, credentials, out, signal });
    expect(verified.failed, JSON.stringify(verified.checks.filter((c) => c.status !== 'pass'), null, 2)).toEqual([]);
    const forwarded = await portForward(exec, env, stack, verifyTargets(stack));
    try {
      const viaForward = await runVerify({ stack, credentials, out, signal, forwarded: forwarded.ports });
      expect(viaForward.failed).toEqual([]);
    } finally {
      forwarded.close();
    }

    const down = await runtime.down({ purge: false });
    expect(down.volumesKept).toBeGreaterThan(0);
    expect(await runtime.exists()).toBe(false);
    expect(await runtime.status(stack)).toEqual([]);

    const purged = await runtime.down({ purge: true });
    expect(purged.volumes).toBe(down.volumesKept);
    expect((await exec.run('kind', ['get', 'clusters'], { allowFail: true })).stdout).not.toContain(cluster);
    purge = undefined;
  });
});
