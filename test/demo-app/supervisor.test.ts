/**
 * The demo launcher's supervisor, with real child processes: nothing it starts outlives `stopAll`. The load
 * generator is started when the storefront turns ready, which can happen while the demo is already stopping
 * (another service failed to start); such a start must not spawn a process that `stopAll` no longer waits for.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createSupervisor } from '../../demo-app/launcher/supervisor.js';

const idle = ['-e', 'setInterval(() => {}, 1000)'];
const spawned: number[] = [];
afterAll(() => {
  for (const pid of spawned) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('demo supervisor', () => {
  it('starts nothing once stopping has begun, so no child outlives stopAll', async () => {
    const supervisor = createSupervisor({ onFatal: () => undefined });
    supervisor.start({ name: 'storefront', args: idle, env: process.env });
    const stopped = supervisor.stopAll(2_000);
    supervisor.start({ name: 'loadgen', args: idle, env: process.env });
    await stopped;
    const status = supervisor.status() as Record<string, { pid?: number }>;
    for (const { pid } of Object.values(status)) if (pid) spawned.push(pid);
    expect(status.loadgen.pid).toBeUndefined();
    expect(status.storefront.pid).toBeGreaterThan(0);
  });
});
