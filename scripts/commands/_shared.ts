/**
 * What the commands share (not a command): the stack they act on, the runtime that made it, flag parsing helpers,
 * and whether a browser can be opened.
 */
import { readFileSync } from 'node:fs';
import { buildStack, type Stack } from '../stack/model.js';
import { resolveStackOptions, type Settings } from '../stack/options.js';
import { isProfileName, profileNames, type ProfileName } from '../stack/profiles.js';
import type { CommandContext } from './command.js';
import type { Runtime } from '../runtimes/runtime.js';
import { usageError } from '../lib/errors.js';
import { loadState, type State } from '../lib/state.js';

export function profileFlag(v: unknown): ProfileName | undefined {
  if (v === undefined || v === '') return undefined;
  if (!isProfileName(String(v))) throw usageError(`unknown profile "${v}"`, `use one of: ${profileNames.join(', ')}`);
  return String(v) as ProfileName;
}

/**
 * The stack as the user configured it (flags > env > settings file). After `up`, the profile recorded in the state
 * file is the default, so `status` describes what `up` made.
 */
export function stackFor(ctx: Pick<CommandContext, 'env'>, state: State | undefined, flags: Settings = {}): Stack {
  const profile = flags.profile ?? (ctx.env.MOP_PROFILE ? undefined : state?.active?.profile);
  return buildStack(resolveStackOptions(ctx.env, { ...flags, ...(profile ? { profile } : {}) }));
}

/** The state file and the runtime that made the stack (compose unless `up` recorded another). */
export async function current(ctx: Pick<CommandContext, 'env' | 'exec' | 'runtimes'>): Promise<{ state: State | undefined; runtime: Runtime }> {
  const state = await loadState(ctx.env);
  const runtime = await ctx.runtimes.recorded(state?.active?.runtime, { exec: ctx.exec, env: ctx.env });
  return { state, runtime };
}

/** "30" | "30s" | "2m" -> ms */
export function parseDuration(v: unknown, flag: string): number | undefined {
  if (v === undefined || v === '') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(String(v).trim());
  if (!m || Number(m[1]) <= 0) throw usageError(`${flag} "${v}" is not a duration`, `give seconds, e.g. ${flag} 300 (or 300s, 5m)`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

/** Whether a browser can be shown: not in CI, not over SSH on a Mac, and on Linux only with a display (or WSL). */
export function hasDisplay(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): boolean {
  if (env.CI) return false;
  if (platform === 'win32') return true;
  if (platform === 'darwin') return !env.SSH_CONNECTION && !env.SSH_TTY;
  if (env.DISPLAY || env.WAYLAND_DISPLAY) return true;
  try {
    return /microsoft/i.test(readFileSync('/proc/version', 'utf8')); // WSL opens the Windows browser
  } catch {
    return false;
  }
}

/** Opens a URL in the default browser (the `open` package). Resolves false when it could not. */
export async function openInBrowser(url: string): Promise<boolean> {
  try {
    const { default: open } = await import('open');
    const child = await open(url, { wait: false });
    child.on('error', () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

