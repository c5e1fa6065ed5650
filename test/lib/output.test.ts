import { describe, expect, it } from 'vitest';
import { createOutput, type Sink } from '../../scripts/lib/output.js';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';

function sink(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const s: Sink = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY };
  return { s, out, err };
}

describe('output', () => {
  it('prints exactly one JSON document in --json mode, with the error in it', () => {
    const { s, out, err } = sink(true);
    const o = createOutput({ json: true, sink: s });
    o.info('hello');
    o.step('start tempo').ok();
    o.warn('low memory');
    o.result({ components: [{ name: 'tempo' }] });
    o.error(new UserError({ what: 'port 3000 is taken', why: 'by container x', next: 'stop x', exitCode: ExitCode.preflight, code: 'PORT_IN_USE' }));
    o.finish(ExitCode.preflight);
    expect(err).toEqual([]);
    expect(out).toHaveLength(1);
    const doc = JSON.parse(out[0]);
    expect(doc).toMatchObject({ ok: false, exitCode: 3, components: [{ name: 'tempo' }], warnings: ['low memory'], error: { code: 'PORT_IN_USE', next: 'stop x' } });
  });

  it('prints plain lines without escape codes when not on a TTY', () => {
    const { s, out } = sink(false);
    const o = createOutput({ sink: s });
    const step = o.step('wait for loki');
    step.update('starting');
    step.ok('ready in 2.0s');
    o.table(['NAME', 'STATE'], [['loki', 'running']]);
    const text = out.join('');
    expect(text).not.toMatch(/\x1b/);
    expect(text).toContain('✓ wait for loki (ready in 2.0s)');
    expect(text).toContain('NAME  STATE\nloki  running\n');
  });

  it('says what, why and next on stderr for a user error', () => {
    const { s, err } = sink(false);
    createOutput({ sink: s }).error(new UserError({ what: 'Docker is not running', why: 'no socket', next: 'start Docker', details: ['line 1'] }));
    expect(err.join('')).toBe('error: Docker is not running\n  why: no socket\n  line 1\n  next: start Docker\n');
  });
});
