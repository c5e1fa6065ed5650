/**
 * Settings that look right but do nothing are worse than none: each one here was found in review doing nothing
 * at the pinned versions. Retention is set once in Tempo, where it is applied, and equals Mimir's and Loki's;
 * Alloy forwards native histograms only where a scrape collects them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseAlloy, type AlloyBlock } from '../support/alloy-grammar.js';
import { configDir } from './paths.js';

const yaml = (file: string) => parseYaml(readFileSync(join(configDir, file), 'utf8').replace(/\$\{[A-Z_]+\}/g, 'x'));
const hours = (d: string) => {
  const m = /^(\d+)([hd])$/.exec(d);
  if (!m) throw new Error(`unsupported duration ${d}`);
  return Number(m[1]) * (m[2] === 'd' ? 24 : 1);
};

/** Every path in a YAML document whose last key is `key`. */
function pathsTo(value: any, key: string, at: string[] = []): string[] {
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => [...(k === key ? [[...at, k].join('.')] : []), ...pathsTo(v, key, [...at, k])]);
}

describe('retention', () => {
  it('Tempo sets block_retention only in backend_worker, where Tempo 3.0.3 applies it (backendworker.go RetainTenantWithConfig)', () => {
    expect(pathsTo(yaml('tempo/tempo.yaml'), 'block_retention')).toEqual(['backend_worker.compaction.block_retention']);
  });

  it('is the same 7 days in Tempo, Mimir and Loki', () => {
    const tempo = hours(yaml('tempo/tempo.yaml').backend_worker.compaction.block_retention);
    const mimir = hours(yaml('mimir/mimir.yaml').limits.compactor_blocks_retention_period);
    const loki = hours(yaml('loki/loki.yaml').limits_config.retention_period);
    expect([tempo, mimir, loki]).toEqual([168, 168, 168]);
  });
});

describe('Alloy native histograms', () => {
  const files = ['config.alloy', 'stack-compose.alloy', 'stack-kubernetes.alloy', 'logs-docker.alloy', 'logs-kubernetes.alloy'];
  const blocks = files.flatMap((f) => parseAlloy(readFileSync(join(configDir, 'alloy', f), 'utf8')).blocks);
  const attr = (b: AlloyBlock, name: string) => b.attributes.find((a) => a.name === name)?.value;

  /** Remote writes that send native histograms, and whether any scrape forwarding to them collects any. */
  function sendersWithoutSource(all: AlloyBlock[]): string[] {
    return all
      .filter((b) => b.name === 'prometheus.remote_write')
      .filter((w) => w.blocks.some((e) => e.name === 'endpoint' && attr(e, 'send_native_histograms') === 'true'))
      .filter(
        (w) =>
          !all.some(
            (s) =>
              s.name === 'prometheus.scrape' &&
              attr(s, 'scrape_native_histograms') === 'true' &&
              (attr(s, 'forward_to') ?? '').includes(`prometheus.remote_write.${w.label}.receiver`),
          ),
      )
      .map((w) => `prometheus.remote_write "${w.label}"`);
  }

  it('are sent only where a scrape collects them (scrape_native_histograms defaults to false)', () => {
    expect(sendersWithoutSource(blocks)).toEqual([]);
  });

  it('negative: send_native_histograms with no scrape collecting them is reported', () => {
    const extra = parseAlloy(
      'prometheus.remote_write "x" {\n  endpoint {\n    url = "http://mimir:8080/api/v1/push"\n    send_native_histograms = true\n  }\n}\n',
    ).blocks;
    expect(sendersWithoutSource([...blocks, ...extra])).toEqual(['prometheus.remote_write "x"']);
  });
});
