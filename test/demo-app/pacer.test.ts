/** The load generator's schedule on a scripted clock: the rate it holds, whatever the timers do. */
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../demo-app/loadgen/pacer.js';

function clocked(rps: number) {
  let t = 1_000_000;
  const due = createPacer(rps, () => t);
  return { due, advance: (ms: number) => ((t += ms), due()) };
}

describe('load generator pacer', () => {
  it('sends rps requests per second on 20 ms ticks: 10 rps → 10 in one second, one every 100 ms', () => {
    const { advance } = clocked(10);
    const sent = Array.from({ length: 50 }, () => advance(20));
    expect(sent.reduce((a, b) => a + b, 0)).toBe(10);
    expect(sent.map((n, i) => (n ? i : -1)).filter((i) => i >= 0)).toEqual([4, 9, 14, 19, 24, 29, 34, 39, 44, 49]);
  });

  it('catches up after a late timer, so the average holds (5 rps, a 1.4 s stall)', () => {
    const { advance } = clocked(5);
    expect(advance(200)).toBe(1);
    expect(advance(1_400)).toBe(7);
    expect(advance(400)).toBe(2);
  });

  it('sends nothing before the first request is due, and never a negative count', () => {
    const { due, advance } = clocked(2);
    expect(due()).toBe(0);
    expect(advance(499)).toBe(0);
    expect(advance(1)).toBe(1);
    expect(advance(0)).toBe(0);
  });
});
