/** `up`'s images stage on compose (scripts/runtimes/compose/images.ts): pulls and the demo's build; against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode, UserError } from '../../../scripts/lib/errors.js';
import { pullFailureGroups } from '../../../scripts/runtimes/compose/images.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { credentials, world, composeCalls } from './world.js';

describe('compose runtime: up', () => {
  it('pulls only missing images and builds locally built ones', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(composeCalls(w.exec)).toEqual(['pull --quiet grafana', 'build demo', 'up -d --no-build --pull never --remove-orphans']);
    expect(w.cap.text()).toMatch(/✓ pull grafana\/grafana:13\.2\.0/);
  });

  it('builds the demo beside the pulls, not after them', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    // The pull answers only once the build has begun: run one after the other, they never meet.
    let buildBegan!: () => void;
    const began = new Promise<void>((r) => (buildBegan = r));
    const run = w.exec.run.bind(w.exec);
    w.exec.run = async (file, args, opts) => {
      if (args[5] === 'build') buildBegan();
      if (args[5] === 'pull') {
        // The bound only turns a hang (a build that waits for the pull) into a message before the test's timeout.
        const met = await Promise.race([began.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000).unref())]);
        if (!met) return { exitCode: 1, stdout: '', stderr: 'the pull waited 20 s for a build that never began' };
      }
      return run(file, args, opts);
    };
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    // (The fake records a call when it answers, so the waiting pull comes after the build.)
    expect(composeCalls(w.exec)).toEqual(['build demo', 'pull --quiet grafana', 'up -d --no-build --pull never --remove-orphans']);
  });

  it('a pull that fails for good stops the build still running, and up names the pull (exit 3)', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'grafana' && c.name !== 'demo').map((c) => c.image);
    const w = world({ stack, images: present });
    let buildSignal: AbortSignal | undefined;
    const run = w.exec.run.bind(w.exec);
    w.exec.run = async (file, args, opts) => {
      if (args[5] === 'build') {
        buildSignal = opts?.signal;
        // A long build: it ends only when stopped.
        await new Promise<void>((r) => (opts?.signal?.aborted ? r() : opts?.signal?.addEventListener('abort', () => r(), { once: true })));
        return { exitCode: 130, stdout: '', stderr: 'build cancelled' };
      }
      if (args[5] === 'pull') return { exitCode: 1, stdout: '', stderr: 'Error response from daemon: manifest unknown' };
      return run(file, args, opts);
    };
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.code).toBe('IMAGE_PULL_FAILED');
    expect(buildSignal?.aborted).toBe(true);
    expect(w.cap.text()).toMatch(/build .*stopped: a pull failed/);
  });

  it('stops at an image that cannot be pulled, without retrying a definitive error (exit 3)', async () => {
    const w = world({ images: [], compose: { pull: () => ({ exitCode: 1, stderr: 'Error response from daemon: manifest unknown' }) } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'IMAGE_PULL_FAILED', exitCode: ExitCode.preflight });
    expect(err.next).toMatch(/MOP_REGISTRY_MIRROR/);
    expect(composeCalls(w.exec).filter((c) => c.startsWith('pull'))).toHaveLength(new Set(w.stack.components.map((c) => c.image)).size);
    expect(composeCalls(w.exec)).not.toContain('up -d --no-build --pull never --remove-orphans');
    // Every image failed for the same reason: said once, with the list of images.
    const images = [...new Set(w.stack.components.filter((c) => !c.build).map((c) => c.image))];
    expect(err.why).toBe('Error response from daemon: manifest unknown');
    expect(err.details).toEqual([`Error response from daemon: manifest unknown: ${images.join(', ')}`]);
    expect(w.cap.text().split('manifest unknown').length - 1).toBe(0);
  });

  it('groups pull failures by cause, with the image names taken out of the message', () => {
    const noHost = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io: no such host';
    const groups = pullFailureGroups([
      { image: 'grafana/loki:3.6.0', stderr: noHost },
      { image: 'grafana/tempo:2.9.0', stderr: `some progress\n${noHost}` },
      { image: 'grafana/mimir:3.0.0', stderr: 'Error response from daemon: pull access denied for grafana/mimir, repository does not exist' },
      { image: 'grafana/alloy:v1.11.0', stderr: 'Error response from daemon: pull access denied for grafana/alloy, repository does not exist' },
    ]);
    expect(groups).toEqual([
      { cause: noHost, images: ['grafana/loki:3.6.0', 'grafana/tempo:2.9.0'] },
      { cause: 'Error response from daemon: pull access denied for <image>, repository does not exist', images: ['grafana/mimir:3.0.0', 'grafana/alloy:v1.11.0'] },
    ]);
  });
});
