/**
 * The socket proxy's rules (config/socket-proxy/socket-proxy.mjs): only the read calls Alloy v1.18.1 makes pass
 * (the script's header cites each), everything else is refused before it reaches the socket. The real process in
 * front of the real engine, driven by the Docker CLI, is test/engine/socket-proxy.test.ts; here the forwarding runs
 * against a unix-socket server of the test's own, to show a follow stream is streamed and closed with its client.
 */
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ALLOWED, createSocketProxy, decide } from '../../config/socket-proxy/socket-proxy.mjs';

type Verdict = { allowed: boolean; status?: number; error?: string };
const verdict = (method: string, url: string): Verdict => decide(method, url);

const ID = 'd2a7c0b8e8f14f3c9b5e0a6f7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d';

describe('socket proxy allow-list', () => {
  it('passes the calls Alloy makes, with and without the /v1.NN prefix, query strings included', () => {
    const allowed: [string, string][] = [
      ['HEAD', '/_ping'],
      ['GET', '/_ping'],
      ['GET', '/containers/json'],
      ['GET', '/containers/json?filters=%7B%22label%22%3A%7B%22dev.mop-sandbox.stack%3Dmop-sandbox%22%3Atrue%7D%7D'],
      ['GET', '/networks'],
      ['GET', `/containers/${ID}/json`],
      ['GET', `/containers/${ID}/logs?follow=1&since=1764400000&stderr=1&stdout=1&timestamps=1`],
      ['GET', '/containers/mop-sandbox-tempo-1/logs?tail=10'],
    ];
    for (const [method, url] of allowed) {
      expect(verdict(method, url), `${method} ${url}`).toEqual({ allowed: true });
      const versioned = url.replace(/^/, '/v1.41');
      expect(verdict(method, versioned), `${method} ${versioned}`).toEqual({ allowed: true });
      expect(verdict(method, url.replace(/^/, '/v1.52')), `${method} /v1.52${url}`).toEqual({ allowed: true });
    }
    expect(ALLOWED.map((a) => `${a.methods.join('/')} ${a.path}`)).toEqual([
      'HEAD/GET /_ping',
      'GET /containers/json',
      'GET /networks',
      'GET /containers/{id}/json',
      'GET /containers/{id}/logs',
    ]);
  });

  it('refuses every write method, also on allowed paths', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']) {
      for (const url of ['/_ping', '/containers/json', '/networks', `/containers/${ID}/json`, `/v1.41/containers/${ID}/logs`]) {
        const v = verdict(method, url);
        expect(v.allowed, `${method} ${url}`).toBe(false);
        expect(v.status).toBe(403);
        expect(v.error).toContain(`${method} ${url.split('?')[0]} is refused`);
      }
    }
    expect(verdict('HEAD', '/containers/json').allowed).toBe(false);
  });

  it('refuses every other path: create, exec, images, build, volumes, archive, attach, events, info, swarm, plugins', () => {
    const refused = [
      ['POST', '/containers/create'],
      ['POST', '/v1.41/containers/create?name=x'],
      ['GET', '/containers/create'],
      ['POST', `/containers/${ID}/exec`],
      ['GET', `/containers/${ID}/exec`],
      ['POST', '/exec/x/start'],
      ['GET', '/exec/x/json'],
      ['POST', '/images/create?fromImage=alpine'],
      ['GET', '/images/json'],
      ['POST', '/build'],
      ['GET', '/volumes'],
      ['POST', '/volumes/create'],
      ['GET', `/containers/${ID}/archive?path=/etc/shadow`],
      ['PUT', `/containers/${ID}/archive?path=/`],
      ['GET', `/containers/${ID}/export`],
      ['GET', `/containers/${ID}/attach/ws`],
      ['POST', `/containers/${ID}/attach`],
      ['GET', `/containers/${ID}/top`],
      ['GET', `/containers/${ID}/changes`],
      ['GET', '/events'],
      ['GET', '/info'],
      ['GET', '/version'],
      ['GET', '/swarm'],
      ['GET', '/secrets'],
      ['GET', '/plugins'],
      ['GET', '/networks/bridge'],
      ['GET', '/containers/json/x'],
      ['GET', `/containers/${ID}/logs/x`],
      ['GET', '/'],
      ['GET', ''],
      ['GET', '/v1.41'],
      ['GET', '/vX.41/containers/json'],
      ['GET', '/v1.41/v1.41/containers/json'],
      ['GET', '/containers/.hidden/json'],
    ];
    for (const [method, url] of refused) {
      const v = verdict(method, url);
      expect(v.allowed, `${method} ${url}`).toBe(false);
      expect(v.status, `${method} ${url}`).toBe(403);
    }
  });

  it('refuses traversal, encoded slashes, doubled slashes and other non-plain paths instead of cleaning them', () => {
    const tricks = [
      `/containers/x/../../build`,
      `/containers/${ID}/../../exec/x/start`,
      '/containers/json/../../build',
      '/v1.41/containers/x/../create',
      '/containers/x%2F..%2F..%2Fbuild/json',
      '/containers/x%2Fjson',
      '/containers%2Fjson',
      '/%63ontainers/json',
      '/containers/%2e%2e/json',
      '/containers/./json',
      '//containers/json',
      '/containers//json',
      '/_ping/',
      '/containers/json/',
      '/containers/json#frag',
      'containers/json',
      `/containers/${ID}/logs\\..\\..\\build`,
    ];
    for (const url of tricks) {
      const v = verdict('GET', url);
      expect(v.allowed, url).toBe(false);
      expect(v.status, url).toBe(403);
    }
    // Malformed percent-encoding: 400, nothing forwarded.
    expect(verdict('GET', '/containers/%E0%A4%A/json')).toMatchObject({ allowed: false, status: 400 });
  });
});

describe('socket proxy forwarding (a unix-socket server of the test in place of the engine)', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function setup(onlyLabel?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'mop-sockproxy-'));
    const socketPath = join(dir, 'docker.sock');
    const seen: string[] = [];
    let streamClosed!: () => void;
    const closed = new Promise<void>((resolve) => (streamClosed = resolve));
    const engine = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url!.includes('/containers/missing/')) {
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end('{"message":"No such container: missing"}');
      }
      if (req.url!.includes('/logs')) {
        res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
        res.write('line 1\n');
        const timer = setInterval(() => res.write('tick\n'), 20);
        res.on('close', () => {
          clearInterval(timer);
          streamClosed();
        });
        return;
      }
      if (req.url!.endsWith('/json')) {
        // The container named "other" belongs to another project; every other id to the stack "mine".
        const labels = req.url!.includes('/containers/other/') ? { 'dev.mop-sandbox.stack': 'theirs' } : { a: 'b', 'dev.mop-sandbox.stack': 'mine' };
        const doc = { Id: ID, State: { Running: true, FinishedAt: '0001-01-01T00:00:00Z' }, Config: { Tty: false, Env: ['GF_SECURITY_ADMIN_PASSWORD=s3cret', 'PATH=/bin'], Labels: labels } };
        res.writeHead(200, { 'api-version': '1.41', 'content-type': 'application/json' });
        return res.end(JSON.stringify(doc));
      }
      res.writeHead(200, { 'api-version': '1.41', 'content-type': 'text/plain' });
      res.end(req.method === 'HEAD' ? undefined : 'OK');
    });
    await new Promise<void>((r) => engine.listen(socketPath, r));
    const log: string[] = [];
    const proxy = createSocketProxy({ socketPath, onlyLabel, log: { error: (m: string) => void log.push(m) } });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    cleanups.push(() => {
      proxy.close();
      proxy.closeAllConnections();
      engine.close();
      engine.closeAllConnections();
      rmSync(dir, { recursive: true, force: true });
    });
    return { port, seen, log, closed };
  }

  const request = (port: number, method: string, path: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('forwards allowed calls unchanged and answers refused ones itself with 403 JSON naming the method and path, logged', async () => {
    const { port, seen, log } = await setup();
    const ping = await request(port, 'GET', '/_ping');
    expect(ping).toMatchObject({ status: 200, body: 'OK' });
    expect(ping.headers['api-version']).toBe('1.41');
    expect((await request(port, 'HEAD', '/_ping')).status).toBe(200);
    const refused = await request(port, 'POST', '/v1.41/containers/create');
    expect(refused.status).toBe(403);
    expect(refused.headers['content-type']).toBe('application/json');
    expect(JSON.parse(refused.body).message).toMatch(/^POST \/v1\.41\/containers\/create is refused by the mop-sandbox socket proxy/);
    expect((await request(port, 'GET', '/containers/x/../../build')).status).toBe(403);
    // Nothing refused reached the engine.
    expect(seen).toEqual(['GET /_ping', 'HEAD /_ping']);
    expect(log).toHaveLength(2);
    expect(log[0]).toContain('refused POST /v1.41/containers/create');
  });

  it('drops the environment from an inspect answer (other containers\' credentials), keeps what Alloy reads', async () => {
    const { port } = await setup();
    const inspect = await request(port, 'GET', `/v1.41/containers/${ID}/json`);
    expect(inspect.status).toBe(200);
    expect(inspect.headers['content-length']).toBe(String(Buffer.byteLength(inspect.body)));
    expect(inspect.headers['api-version']).toBe('1.41');
    expect(JSON.parse(inspect.body)).toEqual({ Id: ID, State: { Running: true, FinishedAt: '0001-01-01T00:00:00Z' }, Config: { Tty: false, Labels: { a: 'b', 'dev.mop-sandbox.stack': 'mine' } } });
    expect(inspect.body).not.toContain('s3cret');
    // The container list carries no environment; it passes as the engine sent it.
    expect(JSON.parse((await request(port, 'GET', '/containers/json')).body).Config.Env).toHaveLength(2);
  });

  it('keeps Alloy to the stack when told its label: lists with the label filter added, refuses inspect and logs of other containers', async () => {
    const label = 'dev.mop-sandbox.stack=mine';
    const { port, seen, log } = await setup(label);
    await request(port, 'GET', '/v1.41/containers/json?filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D');
    const listed = new URL(seen.at(-1)!.split(' ')[1], 'http://x');
    expect(JSON.parse(listed.searchParams.get('filters')!)).toEqual({ label: { 'a=b': true, [label]: true } });
    await request(port, 'GET', '/containers/json?all=1');
    expect(JSON.parse(new URL(seen.at(-1)!.split(' ')[1], 'http://x').searchParams.get('filters')!)).toEqual({ label: { [label]: true } });
    expect((await request(port, 'GET', '/containers/json?filters=nope')).status).toBe(400);

    // The stack's own container: answered from the one inspect the label check read (environment dropped), not asked twice.
    const own = await request(port, 'GET', `/v1.41/containers/${ID}/json`);
    expect(own.status).toBe(200);
    expect(JSON.parse(own.body).Config).toEqual({ Tty: false, Labels: { a: 'b', 'dev.mop-sandbox.stack': 'mine' } });
    expect(seen.filter((l) => l.endsWith(`/containers/${ID}/json`))).toEqual([`GET /containers/${ID}/json`]);
    const before = seen.length;
    for (const path of ['/v1.41/containers/other/json', '/containers/other/logs?follow=1&stdout=1']) {
      const r = await request(port, 'GET', path);
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.body).message).toMatch(/container other is not part of this stack \(no label dev\.mop-sandbox\.stack=mine\)/);
    }
    // Only the label look-ups reached the engine, never the refused calls themselves.
    expect(seen.slice(before)).toEqual(['GET /containers/other/json', 'GET /containers/other/json']);
    expect(log.filter((l) => l.includes('not part of this stack'))).toHaveLength(2);
    // A container the engine does not know gets the engine's own answer.
    expect((await request(port, 'GET', '/containers/missing/logs')).status).toBe(404);
  });

  it('without a label (collectAllLogs) lists and reads every container as asked', async () => {
    const { port, seen } = await setup();
    await request(port, 'GET', '/containers/json?all=1');
    expect(seen.at(-1)).toBe('GET /containers/json?all=1');
    expect((await request(port, 'GET', '/containers/other/json')).status).toBe(200);
  });

  it('streams a follow answer as it comes, and closes the engine\'s stream when the client goes away', async () => {
    const { port, seen, closed } = await setup();
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method: 'GET', path: `/v1.41/containers/${ID}/logs?follow=1&stdout=1` }, (res) => {
        expect(res.statusCode).toBe(200);
        res.on('data', (d) => {
          got.push(String(d));
          // Several chunks arrived while the engine's answer is still open: nothing waits for its end.
          if (got.join('').split('tick').length > 3) {
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (got.length ? undefined : reject(e)));
      req.end();
    });
    expect(got.join('')).toMatch(/^line 1\ntick\n/);
    await closed;
    expect(seen).toEqual([`GET /v1.41/containers/${ID}/logs?follow=1&stdout=1`]);
  });
});
