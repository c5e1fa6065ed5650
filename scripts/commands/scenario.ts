/**
 * `mop-sandbox scenario list|start NAME|stop [NAME]`: switches the demo app's fault scenarios through its
 * control API (demo-app/launcher/control-api.js). The scenario names and parameters live there; this
 * command only forwards them and turns the answers into messages and exit codes.
 */
import type { Command, CommandContext, FlagValues } from './command.js';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import { loadState, stateFile } from '../lib/state.js';

export const DEFAULT_CONTROL_URL = 'http://127.0.0.1:8099';
const TIMEOUT_MS = 5_000;

/** CLI flag -> control API parameter. */
const PARAM_FLAGS = { rate: 'rate', 'delay-ms': 'delayMs', duration: 'durationS' } as const;

interface ParamSpec {
  default: number;
  min: number;
  max: number;
  unit: string;
  help: string;
}
interface ScenarioInfo {
  name: string;
  service: string;
  summary: string;
  params: Record<string, ParamSpec>;
  active: boolean;
  activeParams?: Record<string, number>;
  endsAt?: string;
}

function controlUrl(ctx: CommandContext): URL {
  const raw = (ctx.flags.url as string | undefined) ?? ctx.env.MOP_DEMO_CONTROL_URL ?? DEFAULT_CONTROL_URL;
  try {
    return new URL(raw.endsWith('/') ? raw : `${raw}/`);
  } catch {
    throw usageError(`"${raw}" is not a URL`, 'pass the control API as --url http://HOST:PORT (default http://127.0.0.1:8099)');
  }
}

/** The per-stack control token `up` generated (the demo refuses calls without it); none before the first `up`. */
async function controlToken(ctx: CommandContext): Promise<string | undefined> {
  return (await loadState(ctx.env))?.credentials.DEMO_CONTROL_TOKEN;
}

async function api(ctx: CommandContext, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const base = controlUrl(ctx);
  const url = new URL(path, base);
  const token = await controlToken(ctx);
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  // The control API takes JSON only, also for a POST without parameters.
  if (method === 'POST') headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(TIMEOUT_MS)]),
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new UserError({
      what: `cannot reach the demo app's control API at ${base.origin}`,
      why: cause?.code ?? cause?.message ?? (err as Error).message,
      next: 'start the stack (`mop-sandbox up`) or the demo alone (`npm run demo`), or point --url / MOP_DEMO_CONTROL_URL at its control port',
      exitCode: ExitCode.preflight,
      code: 'DEMO_UNREACHABLE',
    });
  }
  const text = await res.text();
  let data: any;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new UserError({
      what: `${base.origin} answered ${method} ${url.pathname} with something that is not JSON (HTTP ${res.status})`,
      why: 'the URL may point at another service than the demo control API',
      next: 'check --url / MOP_DEMO_CONTROL_URL (default http://127.0.0.1:8099)',
      code: 'DEMO_BAD_RESPONSE',
    });
  }
  if (res.status === 401) {
    throw new UserError({
      what: `the demo control API at ${base.origin} refused the control token`,
      why: token ? `the token in ${stateFile(ctx.env)} is not the one this demo was started with` : `there is no token in ${stateFile(ctx.env)}`,
      next: 'run the command with the same MOP_STATE_DIR as the `mop-sandbox up` that started the demo',
      exitCode: ExitCode.preflight,
      code: 'DEMO_TOKEN_REFUSED',
    });
  }
  return { status: res.status, data };
}

function paramsFromFlags(flags: FlagValues): Record<string, number> {
  const params: Record<string, number> = {};
  for (const [flag, key] of Object.entries(PARAM_FLAGS)) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw usageError(`--${flag} must be a number, got "${String(raw)}"`);
    params[key] = n;
  }
  return params;
}

function rejectParamFlags(flags: FlagValues, sub: string) {
  const given = Object.keys(PARAM_FLAGS).filter((f) => flags[f] !== undefined);
  if (given.length) throw usageError(`--${given[0]} only applies to \`scenario start\`, not \`scenario ${sub}\``);
}

const flagOf = (param: string) => Object.entries(PARAM_FLAGS).find(([, key]) => key === param)?.[0];

/** The control API names parameters as in its JSON (delayMs); the user typed flags (--delay-ms). */
function inFlagTerms(text: string): string {
  return text.replace(/\b(rate|delayMs|durationS)\b/g, (param) => `--${flagOf(param) ?? param}`);
}

function describeParams(s: ScenarioInfo): string {
  return Object.entries(s.params)
    .map(([k, p]) => `--${flagOf(k) ?? k}=${s.activeParams?.[k] ?? p.default} ${p.unit}`)
    .join(', ');
}

async function list(ctx: CommandContext): Promise<number> {
  const { status, data } = await api(ctx, 'GET', 'scenarios');
  if (status !== 200 || !Array.isArray(data.scenarios)) throw unexpected('GET /scenarios', status, data);
  const scenarios = data.scenarios as ScenarioInfo[];
  ctx.out.table(
    ['SCENARIO', 'SERVICE', 'STATE', 'PARAMETERS', 'WHAT IT DOES'],
    scenarios.map((s) => [s.name, s.service, s.active ? (s.endsAt ? `on until ${new Date(s.endsAt).toLocaleTimeString()}` : 'on') : 'off', describeParams(s), s.summary]),
  );
  ctx.out.info('');
  ctx.out.info('Start one: mop-sandbox scenario start NAME [--rate N] [--delay-ms N] [--duration S]; see demo-app/SCENARIOS.md for what to look at in Grafana.');
  ctx.out.result({ scenarios });
  return ExitCode.ok;
}

async function start(ctx: CommandContext, name: string | undefined): Promise<number> {
  if (!name) throw usageError('`scenario start` needs a scenario name', 'run `mop-sandbox scenario list` to see them');
  const params = paramsFromFlags(ctx.flags);
  const { status, data } = await api(ctx, 'POST', `scenarios/${encodeURIComponent(name)}/start`, params);
  if (status === 404) {
    throw new UserError({
      what: `unknown scenario "${name}"`,
      why: Array.isArray(data.known) ? `the demo app knows: ${data.known.join(', ')}` : undefined,
      next: 'run `mop-sandbox scenario list`',
      exitCode: ExitCode.usage,
      code: 'UNKNOWN_SCENARIO',
    });
  }
  if (status === 400) {
    throw new UserError({
      what: `the demo app refused to start "${name}"`,
      why: typeof data.error === 'string' ? inFlagTerms(data.error) : undefined,
      next: 'run `mop-sandbox scenario list` for each scenario\'s parameters and their ranges',
      exitCode: ExitCode.usage,
      code: 'BAD_SCENARIO_PARAMETER',
    });
  }
  if (status !== 200 || !data.started) throw unexpected(`POST /scenarios/${name}/start`, status, data);
  const s = data.started as { name: string; service: string; params: Record<string, number>; endsAt?: string };
  const shown = Object.entries(s.params)
    .filter(([k, v]) => !(k === 'durationS' && v === 0))
    .map(([k, v]) => `--${flagOf(k) ?? k}=${v}`)
    .join(' ');
  ctx.out.info(`started ${s.name} on ${s.service} (${shown})${s.endsAt ? `, stops by itself at ${s.endsAt}` : '; stop it with `mop-sandbox scenario stop`'}`);
  ctx.out.result({ started: s });
  return ExitCode.ok;
}

async function stop(ctx: CommandContext, name: string | undefined): Promise<number> {
  const path = name ? `scenarios/${encodeURIComponent(name)}/stop` : 'scenarios/stop';
  const { status, data } = await api(ctx, 'POST', path);
  if (status === 404 && name) throw new UserError({ what: `unknown scenario "${name}"`, next: 'run `mop-sandbox scenario list`', exitCode: ExitCode.usage, code: 'UNKNOWN_SCENARIO' });
  if (status !== 200 || !Array.isArray(data.stopped)) throw unexpected(`POST /${path}`, status, data);
  ctx.out.info(data.stopped.length ? `stopped ${data.stopped.join(', ')}` : 'no scenario was running');
  ctx.out.result({ stopped: data.stopped });
  return ExitCode.ok;
}

function unexpected(call: string, status: number, data: unknown): UserError {
  return new UserError({
    what: `the demo control API answered ${call} with HTTP ${status}`,
    details: [JSON.stringify(data)],
    next: 'check that --url / MOP_DEMO_CONTROL_URL points at the demo app (default http://127.0.0.1:8099)',
    code: 'DEMO_BAD_RESPONSE',
  });
}

export const command: Command = {
  name: 'scenario',
  summary:
    "List, start and stop the demo app's fault scenarios (latency spike, error burst, slow dependency, log flood, memory growth). " +
    'Talks to the demo control API: --url, else $MOP_DEMO_CONTROL_URL, else http://127.0.0.1:8099.',
  usage: 'scenario list | start NAME [--rate N] [--delay-ms N] [--duration S] | stop [NAME]   [--url URL] [--json]',
  options: {
    rate: { type: 'string' },
    'delay-ms': { type: 'string' },
    duration: { type: 'string' },
    url: { type: 'string' },
  },
  positionals: true,
  async run(ctx) {
    const [sub, name, ...extra] = ctx.args;
    if (extra.length) throw usageError(`unexpected argument "${extra[0]}"`, 'run `mop-sandbox scenario --help`');
    switch (sub) {
      case 'list':
        if (name) throw usageError(`unexpected argument "${name}"`, 'run `mop-sandbox scenario --help`');
        rejectParamFlags(ctx.flags, sub);
        return list(ctx);
      case 'start':
        return start(ctx, name);
      case 'stop':
        rejectParamFlags(ctx.flags, sub);
        return stop(ctx, name);
      default:
        throw usageError(sub ? `unknown subcommand "scenario ${sub}"` : '`scenario` needs a subcommand: list, start or stop', 'run `mop-sandbox scenario --help`');
    }
  },
};
