/**
 * The control API against what a web page or a stray client can send (security review F1, F5), on the real
 * launcher process (`node demo-app/run.js`) started with a control token as `up` starts it: a cross-origin
 * text/plain POST (a CORS "simple request", no preflight), a DNS-rebinding Host, a malformed percent-escape
 * and an oversized body are refused with a 4xx, and the launcher keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, cleanEnv, repoRoot, startDemo, type RunningDemo } from './demo-process.js';

const TOKEN = 'test-control-token-0123456789abcd';
const auth = { authorization: `Bearer ${TOKEN}` };
let demo: RunningDemo;

beforeAll(async () => {
  demo = await startDemo({ DEMO_CONTROL_TOKEN: TOKEN, OTEL_SDK_DISABLED: 'true' });
}, 40_000);
afterAll(async () => {
  await demo?.stop('SIGKILL');
});

/** A raw request: node:http lets a test set Host and send bodies fetch would not. */
function raw(method: string, path: string, headers: Record<string, string | number>, body?: string | Buffer): Promise<{ status: number; text: string }> {
  const { hostname, port } = new URL(demo.control);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const logFloodActive = async () =>
  (await call('GET', `${demo.control}/scenarios`, undefined, auth)).body.scenarios.find((s: { name: string }) => s.name === 'log-flood').active;

async function stillServing() {
  expect(demo.proc.exitCode).toBeNull();
  expect((await call('GET', `${demo.control}/healthz`)).status).toBe(200);
}

describe('control API guard (real launcher)', () => {
  it('refuses the review\'s cross-origin text/plain POST and starts nothing', async () => {
    const body = '{"rate":5000,"durationS":86400}';
    const r = await raw('POST', '/scenarios/log-flood/start', { origin: 'https://evil.example', 'content-type': 'text/plain', ...auth, 'content-length': body.length }, body);
    expect(r.status).toBe(403);
    expect(await logFloodActive()).toBe(false);
  });

  it('refuses a POST that is not application/json even without an Origin', async () => {
    const r = await raw('POST', '/scenarios/log-flood/start', { 'content-type': 'text/plain', ...auth }, '{"rate":1}');
    expect(r.status).toBe(415);
    expect(await logFloodActive()).toBe(false);
  });

  it('refuses a Host that is a name other than localhost (DNS rebinding)', async () => {
    const r = await raw('GET', '/scenarios', { host: 'rebind.evil.example:8099', ...auth });
    expect(r.status).toBe(421);
    expect((await raw('GET', '/scenarios', { host: `localhost:${new URL(demo.control).port}`, ...auth })).status).toBe(200);
    // The health check answers any name (a remote engine is probed by its host name); it reveals nothing.
    expect((await raw('GET', '/healthz', { host: 'docker-host.lan:8099' })).status).toBe(200);
  });

  it('needs the control token for everything but /healthz', async () => {
    expect((await call('GET', `${demo.control}/scenarios`)).status).toBe(401);
    expect((await call('POST', `${demo.control}/scenarios/log-flood/start`, { rate: 1, durationS: 1 }, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect(await logFloodActive()).toBe(false);
    const ok = await call('POST', `${demo.control}/scenarios/log-flood/start`, { rate: 1, durationS: 1 }, auth);
    expect(ok.status).toBe(200);
    await call('POST', `${demo.control}/scenarios/stop`, undefined, auth);
  });

  it('answers a malformed percent-escape with 400 and keeps running (review F5 PoC)', async () => {
    const r = await raw('POST', '/scenarios/%E0%A4%A/start', { 'content-type': 'application/json', ...auth }, '{}');
    expect(r.status).toBe(400);
    await stillServing();
  });

  it('answers a body over 64 KiB with 413 and keeps running', async () => {
    const big = Buffer.from(JSON.stringify({ rate: 1, pad: 'x'.repeat(70 * 1024) }));
    const r = await raw('POST', '/scenarios/log-flood/start', { 'content-type': 'application/json', ...auth, 'content-length': big.length }, big);
    expect(r.status).toBe(413);
    // Chunked, with no Content-Length to refuse up front.
    const chunked = await raw('POST', '/scenarios/log-flood/start', { 'content-type': 'application/json', ...auth, 'transfer-encoding': 'chunked' }, big);
    expect(chunked.status).toBe(413);
    expect(await logFloodActive()).toBe(false);
    await stillServing();
  });
});

describe('storefront input limits (real launcher, review F5)', () => {
  function rawTo(base: string, method: string, path: string, headers: Record<string, string | number>, body?: Buffer): Promise<number> {
    const { hostname, port } = new URL(base);
    return new Promise((resolve, reject) => {
      const req = request({ host: hostname, port, method, path, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('answers a malformed percent-escape with 400 and a body over 64 KiB with 413, and keeps serving', async () => {
    expect(await rawTo(demo.storefront, 'GET', '/api/products/%E0%A4%A', {})).toBe(400);
    const big = Buffer.from(JSON.stringify({ items: [], pad: 'x'.repeat(70 * 1024) }));
    expect(await rawTo(demo.storefront, 'POST', '/api/checkout', { 'content-type': 'application/json', 'content-length': big.length }, big)).toBe(413);
    expect((await call('GET', `${demo.storefront}/api/products`)).status).toBe(200);
  });
});

describe('mop-sandbox scenario sends the token from the state file (real CLI)', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  function stateWith(token: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'mop-token-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'state'));
    const credentials = { GRAFANA_ADMIN_PASSWORD: 'x', S3_ACCESS_KEY_ID: 'x', S3_SECRET_ACCESS_KEY: 'x', DEMO_CONTROL_TOKEN: token };
    writeFileSync(join(dir, 'state', 'state.json'), JSON.stringify({ version: 1, credentials }), { mode: 0o600 });
    return join(dir, 'state');
  }

  const scenario = (args: string[], stateDir: string) =>
    new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', 'scripts/cli.ts', 'scenario', ...args, '--url', demo.control, '--json'],
        { cwd: repoRoot, env: { ...cleanEnv(), MOP_STATE_DIR: stateDir }, timeout: 30_000 },
        (err, stdout) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      );
    });

  it('lists and stops with the right token, and explains a wrong one (exit 3)', async () => {
    const ok = await scenario(['stop'], stateWith(TOKEN));
    expect(ok.code).toBe(0);
    const wrong = await scenario(['list'], stateWith('another-stack-token'));
    expect(wrong.code).toBe(3);
    expect(JSON.parse(wrong.stdout).error.code).toBe('DEMO_TOKEN_REFUSED');
  });
});
