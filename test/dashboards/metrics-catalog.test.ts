/**
 * scripts/stack/metrics-catalog.json: every section names its upstream source and types its metrics.
 * (The demo section is also checked against the demo app's real export, in the demo app's tests.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const catalog = JSON.parse(readFileSync(new URL('../../scripts/stack/metrics-catalog.json', import.meta.url), 'utf8'));
const sections = Object.entries<any>(catalog).filter(([name]) => !name.startsWith('_'));
const types = ['counter', 'gauge', 'histogram', 'summary'];

describe('metrics catalog', () => {
  it('has a section per emitting source', () => {
    expect(sections.map(([name]) => name)).toEqual(
      expect.arrayContaining(['demo', 'prometheus', 'alloy', 'tempo', 'tempo_generator', 'mimir', 'loki', 'obi']),
    );
  });

  it.each(sections)('%s cites its source and types every metric', (_name, section) => {
    expect(typeof section._source).toBe('string');
    expect(section._source.length).toBeGreaterThan(20);
    const metrics = Object.entries<any>(section.metrics);
    expect(metrics.length).toBeGreaterThan(0);
    for (const [metric, entry] of metrics) {
      expect(metric, metric).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/);
      expect(types, metric).toContain(entry.type);
      if (entry.labels !== undefined) expect(Array.isArray(entry.labels), metric).toBe(true);
      // A histogram is listed by its base name; its _bucket/_count/_sum series are implied.
      if (entry.type === 'histogram') expect(metric, metric).not.toMatch(/_(bucket|count|sum)$/);
    }
  });

  it('lists each metric in one section only', () => {
    const names = sections.flatMap(([, section]) => Object.keys(section.metrics));
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
