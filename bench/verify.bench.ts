/**
 * verify's own time: one full run (send, every query, every correlation) against the fake LGTM stack, which
 * answers at once, so what is measured is verify itself, not a backend's wait. The budget is 15 s on a
 * running stack apart from backend-imposed waits (the metrics-generator's 15 s collection interval).
 */
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { createOutput } from '../scripts/lib/output.js';
import { buildStack, type Stack } from '../scripts/stack/model.js';
import { runVerify } from '../scripts/verify/index.js';
import { startFakeLgtm, type FakeLgtm } from '../test/support/fake-lgtm.js';
import { startOtlpReceiver, type OtlpReceiver } from '../test/support/otlp-receiver.js';

let rx: OtlpReceiver;
let fake: FakeLgtm;
let stack: Stack;
const credentials = { GRAFANA_ADMIN_PASSWORD: 'pw', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' };

/** Set up on the first (warm-up) iteration: with a beforeAll hook the stack was not ready when the bench ran. */
async function setup() {
  rx = await startOtlpReceiver();
  fake = await startFakeLgtm(rx, join(import.meta.dirname, '..'));
  const hostPorts = Object.fromEntries(buildStack({ demo: true }).published.map((p) => [`${p.component}.${p.name}`, fake.port]));
  hostPorts['alloy.otlp-http'] = Number(new URL(rx.url).port);
  stack = buildStack({ demo: true, hostPorts });
}

describe('verify', () => {
  afterAll(async () => {
    await fake?.close();
    await rx?.close();
  });

  bench(
    'one verify run against an answering stack (no backend waits)',
    async () => {
      if (!stack) await setup();
      const out = createOutput({ json: true, sink: { out: () => undefined, err: () => undefined, isTTY: false } });
      const report = await runVerify({ stack, credentials, out, signal: new AbortController().signal });
      if (!report.ok) throw new Error(`verify failed: ${report.failed.join(', ')}`);
    },
    { time: 5_000, warmupIterations: 1 },
  );
});
