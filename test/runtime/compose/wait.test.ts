/** `up`'s wait stage on compose (scripts/runtimes/compose/wait.ts): restarts and exits since this `up`; against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { buildStack } from '../../../scripts/stack/model.js';
import { credentials, containersFor, afterFirstLook, world } from './world.js';

describe('compose runtime: up', () => {
  it('up on a partly broken stack waits on the restarted container, not the exit from before (stand-in fake)', async () => {
    const stack = buildStack({ demo: false });
    const existing = containersFor(stack, { tempo: { state: 'exited', exitCode: 137, finishedAt: '2026-11-29T03:00:00Z', restartCount: 3 } });
    const tempo = existing.find((c) => c.service === 'tempo')!;
    // compose starts the exited container a moment after it was asked to; the watcher looks once before that.
    let start = () => {};
    const w = world({ stack, existing, compose: { up: () => (start(), { exitCode: 0 }) } });
    start = afterFirstLook(w.fd, tempo, () => Object.assign(tempo, { state: 'running' })).composeUp;
    const ready = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(Object.keys(ready)).toContain('tempo');
    expect(w.cap.text()).toContain('exited before this `up` (code 137); starting it again');
  });

  it('a container that exits again during up fails it; an out-of-memory exit names the limit', async () => {
    const stack = buildStack({ demo: false });
    const existing = containersFor(stack, { tempo: { state: 'exited', exitCode: 137, finishedAt: '2026-11-29T03:00:00Z' } });
    const tempo = existing.find((c) => c.service === 'tempo')!;
    let start = () => {};
    const w = world({ stack, existing, compose: { up: () => (start(), { exitCode: 0 }) } });
    start = afterFirstLook(w.fd, tempo, () => Object.assign(tempo, { finishedAt: '2026-11-29T03:05:00Z', oomKilled: true })).composeUp;
    const err = await w.runtime.up(stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'COMPONENT_FAILED', what: 'tempo was killed for running out of memory (its limit is 1Gi)' });
  });

  it('treats a crash loop as a failure instead of waiting', async () => {
    const w = world({ override: { loki: { state: 'restarting', exitCode: 2, restartCount: 2 } } });
    const err = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out }).catch((e) => e);
    expect(err.what).toBe('loki keeps crashing (restarted 2 times, last exit code 2)');
  });
});
