/**
 * Requests per second through the storefront with and without OpenTelemetry, on the real demo processes.
 * Both demos run with the simulated latencies off (DEMO_WORK_SCALE=0), so the numbers are CPU cost, and the
 * instrumented one exports to a sink that accepts OTLP without decoding it. Each bench iteration is a burst
 * of CONCURRENCY requests; the ratio is printed at the end.
 */
import { afterAll, beforeAll, bench, describe } from 'vitest';
import http from 'node:http';
import { startOtlpReceiver, type OtlpReceiver } from '../test/support/otlp-receiver.js';
import { startDemo, type RunningDemo } from '../test/demo-app/demo-process.js';

const CONCURRENCY = 16;
/** tinybench calls setup with "warmup" or "run"; only the run phase is counted in the printed req/s. */
let phase: 'warmup' | 'run' = 'warmup';
const OPTIONS = { time: 5_000, warmupTime: 1_000, warmupIterations: 5, setup: (_task: unknown, mode: 'warmup' | 'run') => void (phase = mode) };

let sink: OtlpReceiver;
const demos: Record<'instrumented' | 'uninstrumented', RunningDemo | undefined> = { instrumented: undefined, uninstrumented: undefined };
const measured = new Map<string, { requests: number; ms: number }>();

const checkoutBody = JSON.stringify({ customerId: 'bench', items: [{ sku: 'SKU-1003', qty: 1 }] });

// node:http with keep-alive: a cheaper client than fetch, so more of the two cores go to the demo.
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function request(url: string, method: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { agent, method, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function burst(key: string, url: string, method = 'GET', body?: string) {
  const started = performance.now();
  const statuses = await Promise.all(Array.from({ length: CONCURRENCY }, () => request(url, method, body)));
  if (statuses.some((s) => s >= 500)) throw new Error(`${method} ${url} answered ${statuses.join(',')}`);
  if (phase !== 'run') return;
  const m = measured.get(key) ?? { requests: 0, ms: 0 };
  m.requests += CONCURRENCY;
  m.ms += performance.now() - started;
  measured.set(key, m);
}

beforeAll(async () => {
  sink = await startOtlpReceiver({ decode: false });
  const common = { DEMO_WORK_SCALE: '0', DEMO_LOAD_RPS: '0', OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
  demos.instrumented = await startDemo(common);
  demos.uninstrumented = await startDemo({ ...common, DEMO_INSTRUMENTATION: 'off' });
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(demos).map((d) => d?.stop()));
  await sink?.close();
  const rps = (key: string) => {
    const m = measured.get(key);
    return m ? (m.requests / m.ms) * 1000 : NaN;
  };
  const lines = ['products', 'checkout'].map((route) => {
    const on = rps(`${route} instrumented`);
    const off = rps(`${route} uninstrumented`);
    return `${route.padEnd(8)}  instrumented ${on.toFixed(0).padStart(5)} req/s   uninstrumented ${off.toFixed(0).padStart(5)} req/s   ratio ${(on / off).toFixed(2)}`;
  });
  console.log(`\nstorefront throughput, ${CONCURRENCY} concurrent requests (run phase only):\n${lines.join('\n')}\nOTLP requests received by the sink: ${sink?.requests.length}`);
});

describe(`GET /api/products (storefront -> inventory), ${CONCURRENCY} concurrent`, () => {
  for (const mode of ['instrumented', 'uninstrumented'] as const) {
    bench(mode, () => burst(`products ${mode}`, `${demos[mode]!.storefront}/api/products`), OPTIONS);
  }
});

describe(`POST /api/checkout (all four services + worker), ${CONCURRENCY} concurrent`, () => {
  for (const mode of ['instrumented', 'uninstrumented'] as const) {
    bench(mode, () => burst(`checkout ${mode}`, `${demos[mode]!.storefront}/api/checkout`, 'POST', checkoutBody), OPTIONS);
  }
});
