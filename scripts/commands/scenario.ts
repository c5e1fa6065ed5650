/**
 * `mop-sandbox scenario list|start NAME|stop [NAME]`: switches the demo app's fault scenarios through its
 * control API (demo-app/launcher/control-api.js). The scenario names and parameters live there; this
 * command only forwards them and turns the answers into messages and exit codes.
 */
import { defineCommand, type CommandContext, type FlagSpecs } from './command.js';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import { loadState, stateFile } from '../lib/state.js';
import { endpointUrl } from '../stack/urls.js';
import { stackFor } from './_shared.js';

const TIMEOUT_MS = 5_000;

/** CLI flag -> control API parameter. */
const PARAM_FLAGS = { rate: 'rate', 'delay-ms': 'delayMs', duration: 'durationS' } as const;
type ParamFlag = keyof typeof PARAM_FLAGS;

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

/** The demo's control API as the stack model publishes it (its port setting and bind address), for this user's settings. */
export async function defaultControlUrl(ctx: Pick<CommandContext, 'env'>): Promise<string> {
  const state = await loadState(ctx.env).catch(() => undefined);
  return endpointUrl(stackFor(ctx, state, { demo: true }), 'demo', 'control')!;
}

async function controlUrl(ctx: ScenarioContext): Promise<URL> {
  const fallback = await defaultControlUrl(ctx);
  // An empty MOP_DEMO_CONTROL_URL counts as unset, like the other MOP_* settings.
  const raw = ctx.flags.url ?? (ctx.env.MOP_DEMO_CONTROL_URL || fallback);
  try {
    return new URL(raw.endsWith('/') ? raw : `${raw}/`);
  } catch {
    throw usageError(`"${raw}" is not a URL`, `pass the control API as --url http://HOST:PORT (default ${fallback})`);
  }
}

/** The per-stack control token `up` generated (the demo refuses calls without it); none before the first `up`. */
async function controlToken(ctx: ScenarioContext): Promise<string | undefined> {
  return (await loadState(ctx.env))?.credentials.DEMO_CONTROL_TOKEN;
}

async function api(ctx: ScenarioContext, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; data: any }> {
  const base = await controlUrl(ctx);
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
      next: `check --url / MOP_DEMO_CONTROL_URL (default ${await defaultControlUrl(ctx)})`,
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

function paramsFromFlags(flags: ScenarioContext['flags']): Record<string, number> {
  const params: Record<string, number> = {};
  for (const [flag, key] of Object.entries(PARAM_FLAGS) as [ParamFlag, string][]) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    const n = Number(raw);
    if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n)) throw usageError(`--${flag} must be a number, got "${String(raw)}"`);
    params[key] = n;
  }
  return params;
}

function rejectParamFlags(flags: ScenarioContext['flags'], sub: string) {
  const given = (Object.keys(PARAM_FLAGS) as ParamFlag[]).filter((f) => flags[f] !== undefined);
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

async function list(ctx: ScenarioContext): Promise<number> {
  const { status, data } = await api(ctx, 'GET', 'scenarios');
  if (status !== 200 || !Array.isArray(data.scenarios)) throw unexpected(await controlUrl(ctx), 'GET /scenarios', status, data);
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

async function start(ctx: ScenarioContext, name: string | undefined): Promise<number> {
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
  if (status !== 200 || !data.started) throw unexpected(await controlUrl(ctx), `POST /scenarios/${name}/start`, status, data);
  const s = data.started as { name: string; service: string; params: Record<string, number>; endsAt?: string };
  const shown = Object.entries(s.params)
    .filter(([k, v]) => !(k === 'durationS' && v === 0))
    .map(([k, v]) => `--${flagOf(k) ?? k}=${v}`)
    .join(' ');
  ctx.out.info(`started ${s.name} on ${s.service} (${shown})${s.endsAt ? `, stops by itself at ${s.endsAt}` : '; stop it with `mop-sandbox scenario stop`'}`);
  ctx.out.result({ started: s });
  return ExitCode.ok;
}

async function stop(ctx: ScenarioContext, name: string | undefined): Promise<number> {
  const path = name ? `scenarios/${encodeURIComponent(name)}/stop` : 'scenarios/stop';
  const { status, data } = await api(ctx, 'POST', path);
  if (status === 404 && name) throw new UserError({ what: `unknown scenario "${name}"`, next: 'run `mop-sandbox scenario list`', exitCode: ExitCode.usage, code: 'UNKNOWN_SCENARIO' });
  if (status !== 200 || !Array.isArray(data.stopped)) throw unexpected(await controlUrl(ctx), `POST /${path}`, status, data);
  ctx.out.info(data.stopped.length ? `stopped ${data.stopped.join(', ')}` : 'no scenario was running');
  ctx.out.result({ stopped: data.stopped });
  return ExitCode.ok;
}

function unexpected(base: URL, call: string, status: number, data: unknown): UserError {
  return new UserError({
    what: `the demo control API at ${base.origin} answered ${call} with HTTP ${status}`,
    details: [JSON.stringify(data)],
    next: 'check that --url / MOP_DEMO_CONTROL_URL points at the demo app',
    code: 'DEMO_BAD_RESPONSE',
  });
}

const flags = {
  rate: { type: 'string', valueHint: 'N', description: '`start`: requests per second of the scenario' },
  'delay-ms': { type: 'string', valueHint: 'N', description: '`start`: added latency in milliseconds' },
  duration: { type: 'string', valueHint: 'S', description: '`start`: seconds until it stops by itself (0: until `scenario stop`)' },
  url: {
    type: 'string',
    valueHint: 'URL',
    env: 'MOP_DEMO_CONTROL_URL',
    description: "the demo's control API (default: the demo's control port in the stack model, moved by MOP_PORT_DEMO_CONTROL or bindAddress)",
  },
} as const satisfies FlagSpecs;
type ScenarioContext = CommandContext<typeof flags>;

export const command = defineCommand({
  name: 'scenario',
  args: 'list | start NAME | stop [NAME]',
  flags,
  notes: ['Scenarios: latency spike, error burst, slow dependency, log flood, memory growth (`scenario list` shows each with its parameters).'],
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
});
