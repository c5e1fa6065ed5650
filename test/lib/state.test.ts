import { mkdtempSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureState, generateSecret, loadState, stateDir, stateFile } from '../../scripts/lib/state.js';
import { UserError } from '../../scripts/lib/errors.js';
import { secretNames } from '../../scripts/stack/model.js';

const tempEnv = () => ({ MOP_STATE_DIR: join(mkdtempSync(join(tmpdir(), 'mop-state-')), 'nested') });

describe('state file', () => {
  it('generates every credential once, stores it with mode 0600, and reuses it', async () => {
    const env = tempEnv();
    const first = await ensureState(env);
    for (const name of secretNames) expect(first.credentials[name]).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(statSync(stateFile(env)).mode & 0o777).toBe(0o600);
    expect(statSync(stateDir(env)).mode & 0o777).toBe(0o700);
    const second = await ensureState(env);
    expect(second.credentials).toEqual(first.credentials);
  });

  it('never generates the same secret twice', () => {
    const seen = new Set(Array.from({ length: 200 }, () => generateSecret()));
    expect(seen.size).toBe(200);
  });

  it('explains a corrupt state file instead of overwriting the credentials in it', async () => {
    const env = tempEnv();
    mkdirSync(env.MOP_STATE_DIR, { recursive: true });
    writeFileSync(stateFile(env), '{"version": 1, "credentials": ');
    const err = await loadState(env).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).what).toMatch(/not valid/);
    expect((err as UserError).next).toMatch(/down --purge/);
  });

  it('uses XDG_STATE_HOME, then ~/.local/state', () => {
    expect(stateDir({ XDG_STATE_HOME: '/x' })).toBe('/x/mop-sandbox');
    expect(stateDir({ HOME: '/home/u' })).toBe('/home/u/.local/state/mop-sandbox');
  });
});
