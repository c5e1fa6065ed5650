/**
 * The demo image's Dockerfile (no image can be pulled here, so it is checked as text): pinned base from
 * versions.ts, non-root, the right ports and command, and every package the demo imports installed by
 * `npm ci --omit=dev`.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { images, imageRef } from '../../scripts/stack/versions.js';
import { repoRoot } from './demo-process.js';

const dockerfile = readFileSync(join(repoRoot, 'demo-app/Dockerfile'), 'utf8');
/** Instructions with continuation lines joined and comments dropped. */
const instructions = dockerfile
  .replace(/\\\n\s*/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const named = (word: string) => instructions.filter((l) => l.toUpperCase().startsWith(`${word} `));

describe('demo-app/Dockerfile', () => {
  it('takes its base image from versions.ts images.node, as its only FROM', () => {
    expect(named('ARG')).toContain(`ARG NODE_IMAGE=${imageRef(images.node)}`);
    expect(named('FROM')).toEqual(['FROM ${NODE_IMAGE}']);
  });

  it("installs production dependencies from demo-app's own lockfile (npm publishes nested lockfiles, never the root one)", () => {
    const run = named('RUN').join('\n');
    expect(run).toMatch(/npm ci --omit=dev --ignore-scripts/);
    expect(named('COPY')).toEqual(['COPY demo-app/package.json demo-app/package-lock.json ./', 'COPY demo-app ./demo-app']);
  });

  it('runs node demo-app/run.js as uid 1000 on all interfaces, exposing 8090 and 8099', () => {
    const lastUser = named('USER').at(-1);
    expect(lastUser).toBe('USER 1000:1000');
    expect(instructions.indexOf(lastUser!)).toBeGreaterThan(instructions.findIndex((l) => l.startsWith('RUN ')));
    expect(named('ENV').join(' ')).toMatch(/DEMO_HOST=0\.0\.0\.0/);
    expect(named('EXPOSE')).toEqual(['EXPOSE 8090 8099']);
    expect(named('CMD')).toEqual(['CMD ["node", "demo-app/run.js"]']);
    expect(named('HEALTHCHECK')[0]).toContain('/healthz');
  });

  it("has every package the demo imports among demo-app/package.json's dependencies, and nothing else", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'demo-app', 'package.json'), 'utf8'));
    const files = readdirSync(join(repoRoot, 'demo-app'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    const imported = new Set<string>();
    for (const f of files) {
      const src = readFileSync(join(repoRoot, 'demo-app', f), 'utf8');
      for (const m of src.matchAll(/(?:from|import\(|register\()\s*'([^'.][^']*)'/g)) {
        if (m[1].startsWith('node:')) continue;
        imported.add(m[1].split('/').slice(0, m[1].startsWith('@') ? 2 : 1).join('/'));
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    expect([...imported].filter((name) => !pkg.dependencies[name])).toEqual([]);
    // Only what the demo needs: not the CLI's dependencies.
    expect(Object.keys(pkg.dependencies).filter((name) => !imported.has(name))).toEqual([]);
  });

  it('locks the same versions the root lockfile tests with (the root tests run the demo on those)', () => {
    const read = (rel: string) => JSON.parse(readFileSync(join(repoRoot, rel), 'utf8'));
    const root = read('package.json');
    const demo = read('demo-app/package.json');
    expect(demo.version).toBe(root.version);
    expect(demo.type).toBe('module');
    for (const [name, version] of Object.entries(demo.dependencies)) expect(`${name}@${version}`).toBe(`${name}@${root.dependencies[name]}`);
    const versions = (lock: { packages: Record<string, { version?: string }> }) =>
      new Set(Object.entries(lock.packages).filter(([k]) => k).map(([k, v]) => `${k.slice(k.lastIndexOf('node_modules/') + 13)}@${v.version}`));
    const rootLocked = versions(read('package-lock.json'));
    const demoLock = read('demo-app/package-lock.json');
    expect(demoLock.packages[''].dependencies).toEqual(demo.dependencies);
    expect([...versions(demoLock)].filter((v) => !rootLocked.has(v))).toEqual([]);
  });

  it('is built from a context that leaves out host builds and node_modules', () => {
    const ignored = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.git']));
  });
});
