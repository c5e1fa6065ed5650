/**
 * `node demo-app/run.js` as a process supervisor: Ctrl-C stops every child, a child that dies is reported and
 * comes back, startup failures stop the demo, and the OTEL_* / DEMO_* settings reach the services.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { startOtlpGrpcReceiver, startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { call, cleanEnv, otelTestEnv, repoRoot, startDemo, type RunningDemo } from './demo-process.js';
import { isAlive } from '../support/processes.js';

const demos: RunningDemo[] = [];
const receivers: OtlpReceiver[] = [];

afterAll(async () => {
  await Promise.all(demos.map((d) => d.stop('SIGKILL')));
  await Promise.all(receivers.map((r) => r.close()));
});

async function receiver(grpc = false) {
  const rx = grpc ? await startOtlpGrpcReceiver() : await startOtlpReceiver();
  receivers.push(rx);
  return rx;
}


async function until<T>(probe: () => Promise<T | false> | T | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

describe('supervision', () => {
  it('reports a child that dies, restarts it, and stops every child on Ctrl-C', async () => {
    const rx = await receiver();
    const demo = await startDemo({ ...otelTestEnv(rx.url), DEMO_LOAD_RPS: '5' });
    demos.push(demo);
    const first = demo.childPids();
    expect(Object.keys(first).sort()).toEqual(['inventory', 'loadgen', 'orders', 'payments', 'storefront']);

    process.kill(first.payments, 'SIGKILL');
    await until(() => /msg="child exited unexpectedly" child=payments pid=\d+ signal=SIGKILL/.test(demo.output()), 'the death to be reported');
    expect(demo.output()).toMatch(/msg="restarting child" child=payments in_ms=1000 restarts=1/);
    const healthz = async () => (await call('GET', `${demo.control}/healthz`)).status;
    await until(async () => (await healthz()) === 200 && demo.childPids().payments !== first.payments, 'payments to come back');
    const checkout = await call('POST', `${demo.storefront}/api/checkout`, { items: [{ sku: 'SKU-1002', qty: 1 }] });
    expect([201, 402, 409]).toContain(checkout.status);

    // A terminal's Ctrl-C signals the whole foreground process group.
    const pids = Object.values(demo.childPids());
    const result = await demo.stop('SIGINT');
    expect(result).toEqual({ code: 0, signal: null });
    expect(demo.output()).toContain('msg="stopping the demo"');
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('stops everything and exits 1 when a service cannot start (port taken)', async () => {
    const taken = createServer();
    const port = await listen(taken);
    const proc = spawn(process.execPath, ['demo-app/run.js'], {
      cwd: repoRoot,
      env: { ...cleanEnv(), DEMO_PORT: '0', DEMO_CONTROL_PORT: '0', DEMO_ORDERS_PORT: String(port), DEMO_PAYMENTS_PORT: '0', DEMO_INVENTORY_PORT: '0', OTEL_SDK_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    const code = await new Promise((r) => proc.once('exit', r));
    taken.close();
    expect(code).toBe(1);
    expect(out).toMatch(/msg="demo cannot start" child=orders reason="exited \(code 1/);
    expect(out).toContain('EADDRINUSE');
    const pids = [...out.matchAll(/msg=started child=\S+ pid=(\d+)/g)].map((m) => Number(m[1]));
    expect(pids.filter(isAlive)).toEqual([]);
  });

  it('refuses a bad setting with exit code 2', async () => {
    const proc = spawn(process.execPath, ['demo-app/run.js'], { cwd: repoRoot, env: { ...cleanEnv(), DEMO_LOAD_RPS: 'lots' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (c) => (err += c));
    expect(await new Promise((r) => proc.once('exit', r))).toBe(2);
    expect(err).toContain('DEMO_LOAD_RPS=lots is not a number from 0 to 2000');
  });
});

describe('settings', () => {
  it('listens on DEMO_PORT and exports with OTEL_EXPORTER_OTLP_PROTOCOL=http/json', async () => {
    const rx = await receiver();
    const probe = createServer();
    const port = await listen(probe);
    await new Promise((r) => probe.close(r));
    const demo = await startDemo({ ...otelTestEnv(rx.url), DEMO_PORT: String(port), OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    demos.push(demo);
    expect(demo.storefront).toBe(`http://127.0.0.1:${port}`);

    const res = await call('GET', `${demo.storefront}/api/products`);
    expect(res.status).toBe(200);
    expect(res.body.products).toHaveLength(8);
    const traceId = res.headers.get('traceresponse')!.split('-')[1];
    await rx.waitFor(() => rx.spans.some((s) => s.traceId === traceId && s.resource['service.name'] === 'inventory'), 'the JSON-encoded trace');
    await rx.waitFor(() => rx.logs.length > 0 && rx.metrics.length > 0, 'JSON logs and metrics');
    expect(new Set(rx.requests.map((r) => `${r.path} ${r.contentType}`))).toEqual(
      new Set(['/v1/traces application/json', '/v1/metrics application/json', '/v1/logs application/json']),
    );
    expect(rx.spans.find((s) => s.traceId === traceId)!.resource['deployment.environment']).toBe('local');
  });

  it('exports over gRPC with OTEL_EXPORTER_OTLP_PROTOCOL=grpc', async () => {
    const rx = await receiver(true);
    const demo = await startDemo({ ...otelTestEnv(rx.url), OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' });
    demos.push(demo);
    const res = await call('GET', `${demo.storefront}/api/products/SKU-1005`);
    expect(res.status).toBe(200);
    const traceId = res.headers.get('traceresponse')!.split('-')[1];
    await rx.waitFor(() => rx.spans.some((s) => s.traceId === traceId && s.resource['service.name'] === 'inventory'), 'the trace over gRPC');
    await rx.waitFor(() => rx.logs.length > 0 && rx.metrics.length > 0, 'logs and metrics over gRPC');
    expect(new Set(rx.requests.map((r) => r.path))).toEqual(new Set(['/v1/traces', '/v1/metrics', '/v1/logs']));
  });
});
