/**
 * Path safety of `down --purge` (security review F2) on the real filesystem: a traversing MOP_KIND_CLUSTER is
 * refused before anything is deleted, and the one recursive delete (lib/remove.ts) never leaves the state
 * directory, neither through ".." nor through a symlinked directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../scripts/lib/paths.js';
import { OutsideStateDir, removeUnder } from '../../scripts/lib/remove.js';
import { clusterName } from '../../scripts/runtimes/kind/context.js';

const roots: string[] = [];
function sandbox() {
  const root = mkdtempSync(join(tmpdir(), 'mop-purge-'));
  roots.push(root);
  const state = join(root, 'home', '.local', 'state', 'mop-sandbox');
  mkdirSync(join(state, 'kind', 'mop-sandbox'), { recursive: true });
  writeFileSync(join(state, 'state.json'), '{"version":1,"credentials":{}}\n');
  const victim = join(root, 'victim');
  mkdirSync(victim);
  writeFileSync(join(victim, 'precious.txt'), 'keep me\n');
  return { root, state, victim };
}
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

describe('down --purge with a traversing MOP_KIND_CLUSTER (real CLI, real filesystem)', () => {
  it('refuses with exit code 2 and deletes nothing (review F2 PoC: MOP_KIND_CLUSTER=../../victim)', () => {
    const { root, state, victim } = sandbox();
    // <state>/kind/../../victim is <state>/../victim; the PoC's target sits two levels up from <state>/kind.
    const traversal = `../../../../../victim`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(packageRoot, 'scripts', 'cli.ts'), 'down', '--purge', '--json'], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH!,
        HOME: join(root, 'home'),
        MOP_STATE_DIR: state,
        MOP_KIND_CLUSTER: traversal,
        MOP_PROJECT: 'mop-purge-paths-test',
        // Nothing may reach an engine: validation comes first.
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      },
    });
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).error.what).toContain('is not a valid kind cluster name');
    expect(existsSync(join(victim, 'precious.txt'))).toBe(true);
    expect(existsSync(join(state, 'state.json'))).toBe(true);
  });

  it.each(['../x', '..', 'a/b', 'UPPER', '-lead', 'trail-', 'x'.repeat(51), 'dot.ted'])('rejects the cluster name %j', (name) => {
    expect(() => clusterName({ MOP_KIND_CLUSTER: name })).toThrow(/not a valid kind cluster name/);
  });

  it('accepts kind names', () => {
    expect(clusterName({ MOP_KIND_CLUSTER: 'lab-2' })).toBe('lab-2');
    expect(clusterName({})).toBe('mop-sandbox');
  });
});

describe('removeUnder', () => {
  it('refuses a target outside the root, given with ".."', async () => {
    const { state, victim } = sandbox();
    await expect(removeUnder(join(state, 'kind'), join(state, 'kind', '..', '..', 'victim'))).rejects.toBeInstanceOf(OutsideStateDir);
    await expect(removeUnder(join(state, 'kind'), join(state, 'kind'))).rejects.toBeInstanceOf(OutsideStateDir);
    expect(existsSync(join(victim, 'precious.txt'))).toBe(true);
  });

  it('refuses a target whose parent is a symlink out of the root', async () => {
    const { state, victim } = sandbox();
    mkdirSync(join(victim, 'inner'));
    symlinkSync(victim, join(state, 'kind', 'link'));
    await expect(removeUnder(join(state, 'kind'), join(state, 'kind', 'link', 'inner'))).rejects.toBeInstanceOf(OutsideStateDir);
    expect(existsSync(join(victim, 'inner'))).toBe(true);
  });

  it('removes a directory inside the root, and only the link when the target itself is a symlink', async () => {
    const { state, victim } = sandbox();
    writeFileSync(join(state, 'kind', 'mop-sandbox', 'kubeconfig'), 'x');
    await removeUnder(join(state, 'kind'), join(state, 'kind', 'mop-sandbox'));
    expect(existsSync(join(state, 'kind', 'mop-sandbox'))).toBe(false);
    symlinkSync(victim, join(state, 'kind', 'lab'));
    await removeUnder(join(state, 'kind'), join(state, 'kind', 'lab'));
    expect(existsSync(join(state, 'kind', 'lab'))).toBe(false);
    expect(existsSync(join(victim, 'precious.txt'))).toBe(true);
  });
});
