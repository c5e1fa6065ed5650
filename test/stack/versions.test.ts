/**
 * Pins that still pull but are no longer maintained (../shared/reviews/review-pins-2026-11-29.md): none of
 * the frozen or renamed repositories, the demo on a supported Node LTS, and the CLI still on the Node it declares.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { images } from '../../scripts/stack/versions.js';
import { repoRoot } from '../configs/paths.js';

/** Repositories that publish no more fixes, and why. */
const frozen: Record<string, string> = {
  'pgsty/minio': 'Silo renamed it pgsty/silo on 2026-08-06; pgsty/minio stopped at RELEASE.2026-08-04T00-00-00Z',
  'minio/minio': 'MinIO community images deleted from Docker Hub in 2026-09',
  'minio/mc': 'MinIO community images deleted from Docker Hub in 2026-09',
  'grafana/grafana-oss': 'no images from Grafana 12.4 on (grafana/grafana PR #110065)',
};

describe('image pins', () => {
  it('use no frozen or renamed repository', () => {
    const used = Object.values(images).map((p) => p.repository);
    expect(used.filter((r) => r in frozen).map((r) => `${r}: ${frozen[r]}`)).toEqual([]);
  });

  it('every pin says why', () => {
    for (const [key, pin] of Object.entries(images)) expect(pin.reason.length, key).toBeGreaterThan(40);
  });

  it('the demo image runs a supported Node LTS (even major, newer than Node 20, which ended 2026-04-30)', () => {
    const major = Number(/^(\d+)\./.exec(images.node.tag)?.[1]);
    expect(major % 2, `${images.node.tag} is not an LTS line`).toBe(0);
    expect(major).toBeGreaterThan(20);
  });

  it('the CLI keeps supporting Node 20.19 and later', () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=20.19');
  });
});
