/**
 * verify on a real Docker engine with the stand-in images (test/support/stand-ins.ts): they answer every readiness
 * endpoint but have no query APIs, so verify must FAIL and say what it could not find. It never passes on something
 * that is not the stack. Before `up` it exits 3 (no stack); `up --verify` exits 1.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { createSandbox, type Sandbox } from './harness.js';

const why = engineUnavailable();
skipGroup('engine tests (verify, stand-in)', why, { requiredInCI: true });

describe.skipIf(Boolean(why))('verify on the stand-in stack (real engine)', () => {
  let s: Sandbox | undefined;
  afterAll(async () => {
    await s?.cleanup();
  }, 120_000);

  it('stand-in: verify exits 3 before up, and after up fails every check past readiness, naming what it could not find', async () => {
    s = await createSandbox('verify');
    const before = await s.run('verify', '--json');
    expect(before.code).toBe(ExitCode.preflight);
    expect(before.json.error).toMatchObject({ code: 'NOT_RUNNING' });

    // up --verify: the stack comes up (stand-ins), then verify fails, so up exits 1 with verify's report.
    const up = await s.run('up', '--no-open', '--verify', '--json');
    expect(up.code, JSON.stringify(up.json.error)).toBe(ExitCode.failure);
    expect(up.json).toMatchObject({ alreadyRunning: false, verify: { ok: false } });
    expect(up.json.verify.failed).toContain('send.traces');

    const human = await s.run('verify', '--timeout', '15');
    expect(human.code).toBe(ExitCode.failure);
    process.stdout.write(`\n--- verify against the stand-in stack (human) ---\n${human.stdout}${human.stderr}\n`);

    const r = await s.run('verify', '--json', '--timeout', '15');
    expect(r.code).toBe(ExitCode.failure);
    process.stdout.write(`\n--- verify against the stand-in stack (--json, checks) ---\n${JSON.stringify(r.json.verify.checks.map((c: any) => ({ id: c.id, status: c.status, detail: c.detail })), null, 1)}\n`);
    const checks = new Map<string, { status: string; detail: string; got?: string }>(r.json.verify.checks.map((c: any) => [c.id, c]));
    expect(r.json.ok).toBe(false);
    // Readiness is what stand-ins do answer...
    for (const id of ['ready.tempo', 'ready.loki', 'ready.mimir', 'ready.alloy']) expect(checks.get(id)?.status, id).toBe('pass');
    // ...but nothing behind it: Grafana's health has no database, OTLP is not accepted, no backend holds anything.
    expect(checks.get('ready.grafana')).toMatchObject({ status: 'fail' });
    expect(checks.get('ready.grafana')!.detail).toContain('{"database": "ok"}');
    for (const id of ['send.traces', 'send.logs', 'send.metrics']) {
      expect(checks.get(id)?.status, id).toBe('fail');
      expect(checks.get(id)!.detail, id).toMatch(/expected a 2xx from http:\/\/127\.0\.0\.1:\d+\/v1\/\w+; got HTTP [45]\d\d/);
    }
    expect(r.json.verify.checks.filter((c: any) => c.status === 'pass').map((c: any) => c.id).every((id: string) => id.startsWith('ready.'))).toBe(true);
    expect(r.json.verify.failed.length).toBeGreaterThan(3);
    expect(human.stdout).toMatch(/verify FAILED: \d+ failed \(.*send\.traces/);
  }, 240_000);
});
