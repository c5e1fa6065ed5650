/**
 * Tempo, Mimir and Loki configs use only keys their pinned versions know: each file is checked against
 * the upstream key tree in ../shared/reference with ../shared/tools/check-config-keys.mjs (which needs
 * python3 with PyYAML; Debian package python3-yaml). Tempo parses its config strictly, so an unknown key
 * there stops it at startup; Mimir and Loki fail the same way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { images } from '../../scripts/stack/versions.js';
import { skipGroup } from '../support/skips.js';
import { checkerPath, configDir, referenceDir, sharedAvailable } from './paths.js';

interface CheckResult {
  status: number | null;
  problems: { kind: string; path: string; detail: string }[];
  stderr: string;
}

function checkKeys(tree: string, file: string): CheckResult {
  const r = spawnSync(process.execPath, [checkerPath, tree, file, '--json'], { encoding: 'utf8' });
  if (r.status === 2 || r.error) {
    throw new Error(`check-config-keys failed for ${file}: ${r.error?.message ?? r.stderr.trim()}`);
  }
  return { status: r.status, problems: JSON.parse(r.stdout).problems, stderr: r.stderr };
}

/** The key tree for a pin: its own version's, or the tree versions.ts names (with its reason) for a later patch. */
const treeFor = (name: 'tempo' | 'mimir' | 'loki'): string => {
  const pin: { tag: string; keyTree?: string } = images[name];
  return pin.keyTree ? pin.keyTree.split(':')[0] : `${name}-${pin.tag}.json`;
};

/** Each config with the key tree of the version the stack pins. */
const targets = [
  { name: 'tempo', file: join(configDir, 'tempo/tempo.yaml'), tree: treeFor('tempo') },
  { name: 'mimir', file: join(configDir, 'mimir/mimir.yaml'), tree: treeFor('mimir') },
  { name: 'loki', file: join(configDir, 'loki/loki.yaml'), tree: treeFor('loki') },
];

describe('key tree versions', () => {
  it.each(['tempo', 'mimir', 'loki'] as const)('%s: a borrowed tree is from the same minor release line, and says why', (name) => {
    const pin: { tag: string; keyTree?: string } = images[name];
    const tree = treeFor(name);
    const treeVersion = /^[a-z]+-(\d+\.\d+)\.\d+\.json$/.exec(tree)?.[1];
    expect(treeVersion, tree).toBeDefined();
    expect(pin.tag.replace(/^v/, '').split('.').slice(0, 2).join('.'), `${name} ${pin.tag} checked against ${tree}`).toBe(treeVersion);
    if (pin.keyTree) expect(pin.keyTree.length, 'the reason the tree holds').toBeGreaterThan(tree.length + 40);
  });
});

const noShared = sharedAvailable ? undefined : '../shared/reference not found (only present in the project workspace)';
skipGroup('upstream key-tree checks', noShared, { requiredInCI: true });

describe.skipIf(!sharedAvailable)('config keys against the upstream key trees (../shared/reference)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'mop-keys-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  for (const t of targets) {
    it(`${t.name}: 0 keys unknown to ${t.tree}`, () => {
      const r = checkKeys(resolve(referenceDir, t.tree), t.file);
      expect(r.problems).toEqual([]);
      expect(r.status).toBe(0);
    });
  }

  it('negative: a typo in a key is reported, with the key it should have been', () => {
    const copy = join(tmp, 'tempo-typo.yaml');
    writeFileSync(copy, readFileSync(targets[0].file, 'utf8').replace('stream_over_http_enabled:', 'stream_over_http_enabeld:'));
    const r = checkKeys(resolve(referenceDir, targets[0].tree), copy);
    expect(r.status).toBe(1);
    expect(r.problems).toEqual([{ kind: 'unknown', path: 'stream_over_http_enabeld', detail: 'did you mean "stream_over_http_enabled"?' }]);
  });

  it('negative: Tempo 2.x blocks that Tempo 3 removed are reported', () => {
    const copy = join(tmp, 'tempo-2x.yaml');
    const legacy = 'ingester:\n  max_block_duration: 5m\ncompactor:\n  compaction:\n    block_retention: 48h\n';
    writeFileSync(copy, readFileSync(targets[0].file, 'utf8') + legacy);
    const r = checkKeys(resolve(referenceDir, targets[0].tree), copy);
    expect(r.problems.map((p) => p.path)).toEqual(['ingester', 'compactor']);
  });

  it('negative: a nested typo in Loki and a block given a scalar in Mimir are reported', () => {
    const loki = join(tmp, 'loki-typo.yaml');
    writeFileSync(loki, readFileSync(targets[2].file, 'utf8').replace('  discover_log_levels: true', '  discover_log_level: true'));
    expect(checkKeys(resolve(referenceDir, targets[2].tree), loki).problems.map((p) => p.path)).toEqual([
      'limits_config.discover_log_level',
    ]);
    const mimir = join(tmp, 'mimir-shape.yaml');
    writeFileSync(mimir, readFileSync(targets[1].file, 'utf8').replace(/^usage_stats:\n  enabled: false\n/m, 'usage_stats: false\n'));
    expect(checkKeys(resolve(referenceDir, targets[1].tree), mimir).problems).toEqual([
      { kind: 'type', path: 'usage_stats', detail: 'expected a block (object), got boolean' },
    ]);
  });
});
