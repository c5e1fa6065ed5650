/**
 * The one small state file: generated credentials, which runtime/profile is up, chosen ports.
 * Lives under the user's state directory, mode 0600 (directory 0700). Credentials are created once and reused.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isAccessKeyId, secretNames, type RuntimeName, type SecretName } from '../stack/model.js';
import type { ProfileName } from '../stack/profiles.js';
import { ExitCode, UserError } from './errors.js';

export type Credentials = Record<SecretName, string>;

export interface State {
  version: 1;
  credentials: Credentials;
  /** Set while a stack created by `up` exists (until `down`). */
  active?: {
    runtime: RuntimeName;
    profile: ProfileName;
    project: string;
    startedAt: string;
    hostPorts: Record<string, number>;
  };
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MOP_STATE_DIR) return env.MOP_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'mop-sandbox');
}

export const stateFile = (env: NodeJS.ProcessEnv = process.env) => join(stateDir(env), 'state.json');

export async function loadState(env: NodeJS.ProcessEnv = process.env): Promise<State | undefined> {
  const file = stateFile(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const state = JSON.parse(text) as State;
    if (state.version !== 1 || typeof state.credentials !== 'object') throw new Error('unexpected shape');
    return state;
  } catch (e) {
    throw new UserError({
      what: `the state file ${file} is not valid`,
      // JSON.parse quotes the text around the error, which may be part of a credential: say where, not what.
      why: e instanceof SyntaxError ? `it is not valid JSON${/ at position \d+/.exec(e.message)?.[0] ?? ''}` : (e as Error).message,
      next: `move it away (it holds the generated credentials) and run the command again, or run \`mop-sandbox down --purge\` to start fresh`,
      exitCode: ExitCode.failure,
      code: 'STATE_INVALID',
    });
  }
}

export async function saveState(state: State, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dir = stateDir(env);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a new directory; an existing one (older version, umask, a hand-made
  // MOP_STATE_DIR) is closed too, since it holds the credentials.
  await chmod(dir, 0o700);
  const file = stateFile(env);
  // Exclusive, unpredictable and never through a link: nobody can pre-create the file the credentials go into.
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await fh.writeFile(JSON.stringify(state, null, 2) + '\n');
    await fh.chmod(0o600);
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}

/** Letters and digits only, so values survive YAML, env files and URLs unquoted. */
export function generateSecret(length = 32): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  // Rejection sampling (unbiased); draw again until long enough.
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < limit) out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

function newCredentials(): Credentials {
  const creds = {} as Credentials;
  for (const name of secretNames) creds[name] = isAccessKeyId(name) ? `mop${generateSecret(17).toLowerCase()}` : generateSecret();
  return creds;
}

/** Returns the state, creating credentials on first use and filling any credential added in a later version. */
export async function ensureState(env: NodeJS.ProcessEnv = process.env): Promise<State> {
  const existing = await loadState(env);
  const state: State = existing ?? { version: 1, credentials: newCredentials() };
  const fresh = newCredentials();
  let changed = !existing;
  for (const name of secretNames) {
    if (!state.credentials[name]) {
      state.credentials[name] = fresh[name];
      changed = true;
    }
  }
  if (changed) await saveState(state, env);
  return state;
}

export async function removeState(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await rm(stateFile(env), { force: true });
}
