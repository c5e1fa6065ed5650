/**
 * The gateway in front of Loki, Mimir, Tempo, the Alloy UI and the store (security review F1, DNS rebinding and
 * cross-site requests), as a real process: `node config/gateway/gateway.mjs` with the route list the stack model
 * renders (MOP_GATEWAY_ROUTES), moved onto free ports, in front of small fake backends that record every request they
 * get. A rebinding Host, a foreign Origin, a cross-site request without Origin and every destructive path are refused
 * and never reach a backend; readiness, queries, pushes, signed S3 requests (Host kept) and Loki's tail upgrade pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { buildStack } from '../../scripts/stack/model.js';
import { destructivePaths, gatewayRoutes, type GatewayRoute } from '../../scripts/stack/gateway.js';
import { packageRoot } from '../../scripts/lib/paths.js';

interface Seen {
  method: string;
  url: string;
  host: string;
}

/** A fake backend: answers 200 with JSON on every path, 204 on push paths; records what reached it. */
async function fakeBackend(name: string): Promise<{ server: Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, host: String(req.headers.host) });
    req.resume();
    req.on('end', () => {
      if (/push|otlp/.test(req.url!)) return res.writeHead(204).end();
      // Chunked on purpose: the gateway must pass a streamed body through intact.
      res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name });
      res.write('{"status":"success",');
      res.end(`"data":{"backend":"${name}","path":${JSON.stringify(req.url)}}}`);
    });
  });
  // Loki's tail is a WebSocket: answer the upgrade and echo what comes.
  server.on('upgrade', (req, socket) => {
    seen.push({ method: 'UPGRADE', url: req.url!, host: String(req.headers.host) });
    socket.write('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n');
    socket.on('data', (d) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

interface Answer {
  status: number;
  text: string;
  headers: IncomingMessage['headers'];
}

function call(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const stack = buildStack({ demo: true, storeConsole: true });
const modelRoutes = gatewayRoutes(stack.published);
const backends = new Map<string, Awaited<ReturnType<typeof fakeBackend>>>();
/** Route name ("loki http") -> the gateway port the test calls. */
const ports = new Map<string, number>();
let gateway: ChildProcess;
let gatewayLog = '';

beforeAll(async () => {
  const routes: GatewayRoute[] = [];
  for (const r of modelRoutes) {
    const b = await fakeBackend(r.name);
    backends.set(r.name, b);
    const port = await freePort();
    ports.set(r.name, port);
    // The model's route, moved: the test listens where the host port would be, and the Grafana origin follows.
    routes.push({ ...r, listen: port, hostPort: port, upstream: { host: '127.0.0.1', port: b.port }, origins: [...r.origins, `http://127.0.0.1:${port}`] });
  }
  gateway = spawn(process.execPath, [join(packageRoot, 'config', 'gateway', 'gateway.mjs')], {
    env: { PATH: process.env.PATH, MOP_GATEWAY_ROUTES: JSON.stringify(routes) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  gateway.stdout!.on('data', (d) => (gatewayLog += d));
  gateway.stderr!.on('data', (d) => (gatewayLog += d));
  // Listening on every route (it says so per route).
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if ((gatewayLog.match(/ on :\d+ -> /g) ?? []).length === routes.length) {
        clearInterval(t);
        resolve();
      }
      if (gateway.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`gateway exited ${gateway.exitCode}: ${gatewayLog}`));
      }
    }, 50);
  });
}, 30_000);

afterAll(async () => {
  gateway?.kill('SIGTERM');
  for (const b of backends.values()) b.server.close();
});

const port = (name: string) => ports.get(name)!;
const seenBy = (name: string) => backends.get(name)!.seen;

describe('gateway (real process, routes from the stack model)', () => {
  it('fronts exactly the backends\' published HTTP ports, not Grafana, the demo or OTLP', () => {
    expect(modelRoutes.map((r) => r.name).sort()).toEqual(['alloy http', 'loki http', 'mimir http', 'store console', 'store s3', 'tempo http']);
    expect(stack.published.filter((p) => p.publisher === 'gateway').map((p) => `${p.component}.${p.name}`).sort()).toEqual(
      ['alloy.http', 'loki.http', 'mimir.http', 'store.console', 'store.s3', 'tempo.http'],
    );
    for (const p of stack.published.filter((x) => ['grafana', 'demo'].includes(x.component) || x.name.startsWith('otlp'))) expect(p.publisher).toBe(p.component);
  });

  it('passes readiness, queries and pushes with the published address as Host, to the right backend, body intact', async () => {
    for (const [name, path] of [
      ['mimir http', '/ready'],
      ['loki http', '/ready'],
      ['tempo http', '/ready'],
      ['alloy http', '/-/ready'],
      ['store s3', '/minio/health/ready'],
      ['loki http', '/loki/api/v1/query_range?query=%7Bservice_name%3D%22x%22%7D'],
      ['tempo http', '/api/search?tags=service.name%3Dx'],
    ] as const) {
      const a = await call(port(name), 'GET', path);
      expect(a.status, `${name} ${path}`).toBe(200);
      expect(JSON.parse(a.text).data).toEqual({ backend: name, path });
      expect(a.headers['x-backend']).toBe(name);
    }
    const q = await call(port('mimir http'), 'POST', '/prometheus/api/v1/query', { 'content-type': 'application/x-www-form-urlencoded' }, 'query=up');
    expect(q.status).toBe(200);
    expect((await call(port('mimir http'), 'POST', '/api/v1/push', { 'content-type': 'application/x-protobuf' }, 'x')).status).toBe(204);
    expect((await call(port('loki http'), 'POST', '/loki/api/v1/push', { 'content-type': 'application/json' }, '{}')).status).toBe(204);
    // localhost and the published port are the same address.
    expect((await call(port('loki http'), 'GET', '/ready', { host: `localhost:${port('loki http')}` })).status).toBe(200);
  });

  it('keeps Host for the store (S3 signatures cover it) and lets its own console and Grafana call with an Origin', async () => {
    const before = seenBy('store s3').length;
    expect((await call(port('store s3'), 'PUT', '/tempo/key', { authorization: 'AWS4-HMAC-SHA256 Credential=x' }, 'data')).status).toBe(200);
    expect(seenBy('store s3')[before]).toEqual({ method: 'PUT', url: '/tempo/key', host: `127.0.0.1:${port('store s3')}` });
    const own = await call(port('store console'), 'POST', '/api/v1/login', { origin: `http://127.0.0.1:${port('store console')}` }, '{}');
    expect(own.status).toBe(200);
    const grafana = stack.published.find((p) => p.component === 'grafana')!;
    expect((await call(port('loki http'), 'GET', '/ready', { origin: `http://localhost:${grafana.hostPort}` })).status).toBe(200);
  });

  it('refuses a DNS-rebinding Host, another port, a foreign Origin and a cross-site request, before any backend sees them', async () => {
    const mimir = port('mimir http');
    const before = seenBy('mimir http').length;
    const refused = [
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { host: `evil.example:${mimir}` }),
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { host: `127.0.0.1.nip.io:${mimir}` }),
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { host: `127.0.0.1:${mimir + 1}` }),
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { host: '127.0.0.1' }),
      await call(mimir, 'POST', '/prometheus/api/v1/query', { origin: 'https://evil.example', 'content-type': 'text/plain' }, 'query=up'),
      await call(mimir, 'POST', '/prometheus/api/v1/query', { origin: 'null' }, 'query=up'),
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' }),
      await call(mimir, 'GET', '/prometheus/api/v1/query?query=up', { 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' }),
    ];
    expect(refused.map((a) => a.status)).toEqual([421, 421, 421, 421, 403, 403, 403, 403]);
    expect(JSON.parse(refused[0].text).error).toMatch(/Host "evil\.example:\d+" is not this port's address/);
    expect(seenBy('mimir http').length).toBe(before);
    // A link followed from another page (a top-level navigation) still opens the UI.
    expect((await call(port('alloy http'), 'GET', '/', { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' })).status).toBe(200);
  });

  it('refuses every destructive path of the model, for any method and however the path is spelt, and never forwards it', async () => {
    const cases: [string, string, string][] = [
      ['mimir http', 'POST', '/compactor/delete_tenant'],
      ['mimir http', 'POST', '/ingester/shutdown'],
      ['mimir http', 'GET', '/ingester/flush'],
      ['mimir http', 'GET', '/ingester/prepare-shutdown'],
      ['mimir http', 'POST', '/%69ngester/shutdown'],
      ['mimir http', 'POST', '/x/../compactor/delete_tenant'],
      ['mimir http', 'POST', '//ingester//shutdown'],
      ['mimir http', 'POST', '/ingester/ring'],
      ['mimir http', 'DELETE', '/prometheus/config/v1/rules/ns'],
      ['loki http', 'GET', '/flush'],
      ['loki http', 'POST', '/ingester/shutdown'],
      ['loki http', 'GET', '/ingester/prepare_shutdown'],
      ['loki http', 'POST', '/loki/api/v1/delete?query=%7Ba%3D%22b%22%7D'],
      ['loki http', 'POST', '/ring'],
      ['tempo http', 'GET', '/live-store/prepare-downscale'],
      ['tempo http', 'POST', '/live-store/ring'],
      ['tempo http', 'POST', '/api/overrides'],
    ];
    for (const [name, method, path] of cases) {
      const before = seenBy(name).length;
      const a = await call(port(name), method, path);
      expect(a.status, `${name} ${method} ${path}`).toBe(403);
      expect(seenBy(name).length, `${name} ${method} ${path} reached the backend`).toBe(before);
    }
    // Every rule in the model is exercised by some case above or is covered by its own prefix rule.
    for (const [component, rules] of Object.entries(destructivePaths)) {
      const name = `${component} http`;
      for (const rule of rules!.deny) {
        const path = rule.endsWith('/') ? `${rule}x` : rule;
        expect((await call(port(name), 'GET', path)).status, `${name} GET ${path}`).toBe(403);
      }
    }
    // The pages themselves stay readable.
    expect((await call(port('mimir http'), 'GET', '/ingester/ring')).status).toBe(200);
    expect((await call(port('mimir http'), 'GET', '/prometheus/config/v1/rules')).status).toBe(200);
  });

  it('passes an upgrade (Loki\'s tail) after the same checks, and refuses a rebinding one', async () => {
    const loki = port('loki http');
    const exchange = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(loki, '127.0.0.1', () => {
          s.write(`GET /loki/api/v1/tail?query=x HTTP/1.1\r\nhost: ${host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n`);
        });
        let got = '';
        s.on('data', (d) => {
          got += d;
          if (got.includes('101 Switching') && !got.includes('echo:')) s.write('ping');
          if (got.includes('echo:ping') || got.includes(' 421 ')) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        s.on('close', () => resolve(got));
      });
    expect(await exchange(`127.0.0.1:${loki}`)).toContain('echo:ping');
    const before = seenBy('loki http').length;
    expect(await exchange(`evil.example:${loki}`)).toMatch(/^HTTP\/1\.1 421/);
    expect(seenBy('loki http').length).toBe(before);
  });

  it('answers 502 with the backend named when it is down, and keeps serving', async () => {
    const b = backends.get('tempo http')!;
    await new Promise<void>((r) => b.server.close(() => r()));
    b.server.closeAllConnections();
    const a = await call(port('tempo http'), 'GET', '/ready');
    expect(a.status).toBe(502);
    expect(JSON.parse(a.text).error).toMatch(/tempo http does not answer/);
    // Why, in a header too, so a readiness probe through the gateway says what it would on the backend's port.
    expect(a.headers['x-mop-gateway-upstream-error']).toBe('ECONNREFUSED');
    const { httpProbe } = await import('../../scripts/runtimes/readiness.js');
    expect(await httpProbe(`http://127.0.0.1:${port('tempo http')}/ready`)).toEqual({ error: 'connection refused' });
    expect((await call(port('loki http'), 'GET', '/ready')).status).toBe(200);
    expect(gateway.exitCode).toBeNull();
  });
});
