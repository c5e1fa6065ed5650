import { describe, expect, it } from 'vitest';
import { createOutput } from '../../scripts/lib/output.js';
import { captureSink } from './fakes.js';

describe('output: parallel steps', () => {
  it('prints one line per change and per end in plain mode, aligned', () => {
    const cap = captureSink(false);
    const [a, b] = createOutput({ sink: cap.sink }).group(['store', 'grafana']);
    a.update('starting');
    a.update('starting');
    b.ok('ready in 2.0s');
    a.fail('exited with code 1');
    expect(cap.out.join('')).toBe('  store: starting\n✓ grafana  ready in 2.0s\n✗ store    exited with code 1\n');
  });

  it('redraws lines in place on a TTY', () => {
    const cap = captureSink(true);
    const [a, b] = createOutput({ sink: cap.sink }).group(['store', 'tempo']);
    a.ok('ready in 1.0s');
    b.ok('ready in 2.0s');
    const text = cap.out.join('');
    expect(text).toContain('\x1b[2A\r\x1b[2K');
    expect(text).toContain('\x1b[1A\r\x1b[2K');
  });

  it('prints nothing in JSON mode', () => {
    const cap = captureSink(true);
    const [a] = createOutput({ json: true, sink: cap.sink }).group(['store']);
    a.update('x');
    a.ok();
    expect(cap.out).toEqual([]);
  });
});
