import { it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { startOtlpReceiver } from '/work/main/test/support/otlp-receiver.js';
import { renderSpanTree } from '/work/main/test/demo-app/span-tree.js';
const sh = (...a: string[]) => execFileSync('docker', a, { encoding: 'utf8' }).trim();
it('runs the built image', async () => {
  const rx = await startOtlpReceiver();
  const id = sh('run', '-d', '--network', 'host', '--memory', '512m', '--cpus', '0.5',
    '-e', `OTEL_EXPORTER_OTLP_ENDPOINT=${rx.url}`, '-e', 'OTEL_RESOURCE_ATTRIBUTES=deployment.environment=docker-check',
    '-e', 'DEMO_PORT=18090', '-e', 'DEMO_CONTROL_PORT=18099', '-e', 'DEMO_ORDERS_PORT=18091', '-e', 'DEMO_PAYMENTS_PORT=18092', '-e', 'DEMO_INVENTORY_PORT=18093',
    'mop-demo-check:local');
  try {
    const t0 = Date.now();
    let health = '';
    while (Date.now() - t0 < 90_000) {
      health = sh('inspect', '-f', '{{.State.Health.Status}}', id);
      if (health === 'healthy') break;
      await new Promise(r => setTimeout(r, 1000));
    }
    console.log('health', health, 'after', Date.now() - t0, 'ms; user', sh('inspect', '-f', '{{.Config.User}}', id));
    const res = await fetch('http://127.0.0.1:18090/api/checkout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: [{ sku: 'SKU-1004', qty: 1 }] }) });
    const traceId = res.headers.get('traceresponse')!.split('-')[1];
    console.log('checkout', res.status, traceId);
    await rx.waitFor(() => rx.spans.some(s => s.traceId === traceId && s.name === 'INSERT shipments'), 'shipment', 30_000);
    await new Promise(r => setTimeout(r, 6000));
    console.log(renderSpanTree(rx.spans.filter(s => s.traceId === traceId)));
    console.log('resource', JSON.stringify(rx.spans.find(s => s.traceId === traceId)!.resource));
    const ps = sh('exec', id, 'sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | while read p; do cat /proc/$p/cmdline 2>/dev/null | tr "\\0" " "; echo " [uid $(grep Uid /proc/$p/status 2>/dev/null | cut -f2)]"; done');
    console.log(ps);
    const t1 = Date.now();
    sh('stop', id);
    console.log('stop took', Date.now() - t1, 'ms; exit', sh('inspect', '-f', '{{.State.ExitCode}}', id));
    console.log(sh('logs', '--tail', '8', id));
  } finally {
    try { sh('rm', '-f', id); } catch {}
    await rx.close();
  }
}, 180_000);
