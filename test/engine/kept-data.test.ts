/**
 * What `up` counts as data kept from an earlier `up` (security review F13: a lost state file must not be paired
 * with that data). Real Docker engine: the compose runtime lists the project's own volumes (compose's project label
 * and our stack label), not another project's of the same compose name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createExec } from '../../scripts/lib/exec.js';
import { stackLabel } from '../../scripts/stack/model.js';
import { createComposeRuntime } from '../../scripts/runtimes/compose/index.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { docker } from './harness.js';

const why = engineUnavailable();
skipGroup('engine tests (kept data)', why, { requiredInCI: true });

const project = `mop-kept-${process.pid}`;
const volumes = [`${project}_grafana-data`, `${project}_foreign-data`];
const dir = mkdtempSync(join(tmpdir(), 'mop-kept-'));
afterAll(async () => {
  await Promise.all(volumes.map((v) => docker.getVolume(v).remove().catch(() => undefined)));
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(Boolean(why))('kept data on a real Docker engine', () => {
  it("lists the stack's own volumes and not a same-named project's", async () => {
    const env = { ...process.env, MOP_STATE_DIR: join(dir, 'state'), MOP_PROJECT: project };
    const runtime = createComposeRuntime({ exec: createExec(), env });
    expect(await runtime.keptData()).toEqual([]);
    await docker.createVolume({ Name: volumes[0], Labels: { 'com.docker.compose.project': project, [stackLabel]: project } });
    await docker.createVolume({ Name: volumes[1], Labels: { 'com.docker.compose.project': project, [stackLabel]: 'someone-else' } });
    expect(await runtime.keptData()).toEqual([`volume ${volumes[0]}`]);
  });
});
