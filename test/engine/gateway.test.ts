/**
 * The gateway on a real Docker engine (security review F1): `up` runs the real config/gateway/gateway.mjs (on a
 * stand-in of the pinned Node image made from this machine's node, test/support/node-stand-in.ts) in front of the
 * busybox stand-ins of Loki, Mimir, Tempo, Alloy and the store. `up` waits on Mimir's readiness through the gateway's
 * published port; a DNS-rebinding Host, a web page's Origin and a destructive path are refused there; the backends
 * publish nothing themselves.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { skipGroup } from '../support/skips.js';
import { nodeStandIn, nodeStandInUnavailable } from '../support/node-stand-in.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { createSandbox, repoRoot, type Sandbox } from './harness.js';

const lock = join(repoRoot, 'demo-app', 'package-lock.json');
const why = engineUnavailable() ?? nodeStandInUnavailable(lock);
const skipped = skipGroup('gateway engine test (stand-in backends, real gateway)', why, { requiredInCI: true });

let s: Sandbox | undefined;
afterAll(async () => {
  if (!s) return;
  await s.run('down', '--purge', '--json').catch(() => undefined);
  await s.cleanup();
});

async function call(port: number, method: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(skipped)('gateway in front of the stand-in backends (real Docker engine)', () => {
  it('stand-in: up waits on Mimir through the real gateway, which refuses rebinding, web pages and destructive paths', async () => {
    s = await createSandbox('gw', {}, { MOP_IMAGE_GATEWAY: nodeStandIn(lock) });
    const up = await s.run('up', '--no-open', '--json');
    expect(up.code, JSON.stringify(up.json?.error)).toBe(ExitCode.ok);
    expect(up.json.components.map((c: { name: string }) => c.name)).toContain('gateway');

    // Only the gateway, Grafana, Alloy (OTLP) and the demo publish ports; Loki, Mimir, Tempo and the store none.
    const containers = await s.containers();
    const published = (service: string) =>
      containers.filter((c) => c.Labels['com.docker.compose.service'] === service).flatMap((c) => c.Ports.filter((p) => p.PublicPort).map((p) => p.PrivatePort));
    for (const backend of ['loki', 'mimir', 'tempo', 'store']) expect(published(backend), backend).toEqual([]);
    expect(published('gateway').sort((a, b) => a - b)).toEqual([3100, 3200, 8080, 9000, 12345]);

    const mimir = s.hostPorts['mimir.http'];
    const loki = s.hostPorts['loki.http'];
    // Forwarded to the busybox stand-in of Mimir (it serves the readiness path), through the published port.
    expect(await call(mimir, 'GET', '/ready')).toMatchObject({ status: 200 });
    expect(await call(loki, 'GET', '/ready')).toMatchObject({ status: 200 });
    expect((await call(mimir, 'GET', '/ready', { host: `rebind.example:${mimir}` })).status).toBe(421);
    expect((await call(mimir, 'POST', '/prometheus/api/v1/query', { origin: 'https://evil.example' })).status).toBe(403);
    expect((await call(mimir, 'POST', '/compactor/delete_tenant')).status).toBe(403);
    expect((await call(loki, 'POST', '/ingester/shutdown')).status).toBe(403);

    const status = await s.run('status', '--json');
    expect(status.code, JSON.stringify(status.json)).toBe(ExitCode.ok);
    const down = await s.run('down', '--json');
    expect(down.code).toBe(ExitCode.ok);
  }, 240_000);
});
