/**
 * `down --purge` with no record of which runtime `up` used (an interrupted up, a lost state file) must still remove a
 * kind cluster left behind, or it would hold its host ports for ever. Real CLI and real Docker engine (compose side);
 * kind and kubectl are small recording scripts on PATH, since no kind binary runs here.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { spawnCli } from './harness.js';

const why = engineUnavailable();
skipGroup('engine tests (down, both runtimes)', why, { requiredInCI: true });

function fakeTools(dir: string, log: string, clusters: string) {
  const script = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  script('kind', `case "$1 $2" in "get clusters") printf '${clusters}' ;; esac\nexit 0`);
  script('kubectl', 'exit 0');
}

describe.skipIf(Boolean(why))('down with no recorded runtime (recording kind/kubectl scripts, real Docker engine)', () => {
  it.each([
    ['down --purge deletes a leftover kind cluster', 'mop-sandbox\\n', true],
    ['down --purge with no cluster deletes nothing', '', false],
  ])('%s', async (_title, clusters, expectDelete) => {
    const root = mkdtempSync(join(tmpdir(), 'mop-down-both-'));
    const log = join(root, 'calls.log');
    writeFileSync(log, '');
    fakeTools(root, log, clusters);
    const env = { ...process.env, PATH: `${root}:${process.env.PATH}`, MOP_STATE_DIR: join(root, 'state'), MOP_PROJECT: `mop-downboth-${process.pid}` };
    const r = await spawnCli(['down', '--purge', '--json'], env).done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const calls = readFileSync(log, 'utf8');
    expect(calls).toContain('kind get clusters');
    if (expectDelete) expect(calls).toMatch(/^kind delete cluster --name mop-sandbox/m);
    else expect(calls).not.toContain('kind delete');
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, purge: true });
  });
});
