/** The state file holds the credentials (security review F3c, F13): written exclusively, never echoed in errors. */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureState, loadState, stateFile } from '../../scripts/lib/state.js';
import { UserError } from '../../scripts/lib/errors.js';

const tempEnv = () => ({ MOP_STATE_DIR: join(mkdtempSync(join(tmpdir(), 'mop-state-')), 'nested') });

describe('state file safety', () => {
  it('does not echo a credential fragment when the file is corrupt (review F13 PoC)', async () => {
    const env = tempEnv();
    mkdirSync(env.MOP_STATE_DIR, { recursive: true });
    writeFileSync(stateFile(env), '{"version":1,"credentials":{"GRAFANA_ADMIN_PASSWORD":wiiKRpCHB6xyz}}');
    const err = (await loadState(env).catch((e) => e)) as UserError;
    expect(err).toBeInstanceOf(UserError);
    expect(JSON.stringify(err.toJSON())).not.toMatch(/wiiK|CHB6/);
    expect(err.why).toMatch(/not valid JSON/);
  });

  it('closes an existing state directory to its owner (mode 0700) when it saves the credentials', async () => {
    const env = tempEnv();
    mkdirSync(env.MOP_STATE_DIR, { recursive: true, mode: 0o755 });
    chmodSync(env.MOP_STATE_DIR, 0o755);
    await ensureState(env);
    expect(statSync(env.MOP_STATE_DIR).mode & 0o777).toBe(0o700);
  });

  it('never writes the credentials into a file someone pre-created at the old temp name (<file>.<pid>.tmp)', async () => {
    const env = tempEnv();
    mkdirSync(env.MOP_STATE_DIR, { recursive: true });
    const trap = `${stateFile(env)}.${process.pid}.tmp`;
    writeFileSync(trap, '', { mode: 0o666 });
    const state = await ensureState(env);
    expect(readFileSync(trap, 'utf8')).toBe('');
    expect(JSON.parse(readFileSync(stateFile(env), 'utf8')).credentials).toEqual(state.credentials);
    expect(readdirSync(env.MOP_STATE_DIR).sort()).toEqual(['state.json', `state.json.${process.pid}.tmp`]);
  });
});
