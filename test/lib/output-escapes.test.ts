/**
 * Text from containers and remote services (`logs`, scenario and backend error details) reaches the terminal
 * without escape sequences (security review F13): no colour resets, cursor moves, title or clipboard changes.
 */
import { describe, expect, it } from 'vitest';
import { createOutput, stripControls, type Sink } from '../../scripts/lib/output.js';
import { ExitCode, UserError } from '../../scripts/lib/errors.js';

const hostile = [
  'log line \x1b[2J\x1b[H cleared',
  'title \x1b]0;pwned\x07 set',
  'clipboard \x1b]52;c;ZXZpbA==\x1b\\ written',
  'link \x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\',
  'c1 \x9b31m red',
  'bell \x07 and backspace \x08 and cr \r',
];

describe('stripControls', () => {
  it('removes CSI, OSC, 8-bit C1 sequences and control characters, keeping the text, tabs and newlines', () => {
    expect(hostile.map(stripControls)).toEqual(['log line  cleared', 'title  set', 'clipboard  written', 'link click', 'c1  red', 'bell  and backspace  and cr ']);
    expect(stripControls('a\tb\nc é ✓')).toBe('a\tb\nc é ✓');
  });
});

describe('output prints untrusted text without escapes', () => {
  it.each([false, true])('on %s TTY: info, warn, table and errors', (isTTY) => {
    const out: string[] = [];
    const err: string[] = [];
    const s: Sink = { out: (t) => out.push(t), err: (t) => err.push(t), isTTY };
    const o = createOutput({ sink: s });
    for (const h of hostile) o.info(h);
    o.warn(hostile[1]);
    o.table(['LINE'], [[hostile[2]]]);
    o.error(new UserError({ what: hostile[0], why: hostile[3], details: [hostile[4]], next: 'x', exitCode: ExitCode.failure }));
    const printed = [...out, ...err].join('');
    // Only our own colour codes (SGR "ESC [ n m") may remain on a TTY.
    expect(printed.replace(/\x1b\[\d+m/g, '')).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(printed).toContain('log line  cleared');
  });
});
