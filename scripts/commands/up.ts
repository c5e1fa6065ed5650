import { allowNonLoopbackFlag, defineCommand, noWaitFlag, profileFlagSpec, runtimeFlag, timeoutFlag, type CommandContext } from './command.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { Stack } from '../stack/model.js';
import { ExitCode, UserError } from '../lib/errors.js';
import { preflightError } from '../runtimes/preflight.js';
import { hasDisplay, openInBrowser, parseDuration, profileFlag, stackFor } from './_shared.js';
import { endpointUrl, uiUrl } from '../stack/urls.js';
import { ensureState, loadState, saveState, stateFile } from '../lib/state.js';
import { isHealthy } from '../runtimes/runtime.js';
import { parseRuntimeChoice } from '../runtimes/provider.js';
import { printStatus } from './status.js';
import { ALLOW_NON_LOOPBACK_FLAG, exposureWarnings } from '../stack/exposure.js';
import { resolveStackOptions } from '../stack/options.js';

const interrupted = () =>
  new UserError({ what: 'interrupted', why: 'Ctrl-C before anything was created', exitCode: ExitCode.interrupted, code: 'INTERRUPTED' });

function stateLost(kept: string[], file: string): UserError {
  return new UserError({
    what: `the credentials of this stack's kept data are gone (${file} is missing)`,
    why: `the data of an earlier \`up\` is still there (${kept.slice(0, 3).join(', ')}${kept.length > 3 ? `, and ${kept.length - 3} more` : ''}), and it keeps the passwords it was first given (Grafana's admin password among them): new ones would not log in`,
    next: `put back ${file} from a backup (it holds the passwords), or, to start over without the old telemetry and dashboards, \`mop-sandbox down --purge\` (it deletes that data) and \`mop-sandbox up\``,
    exitCode: ExitCode.preflight,
    code: 'STATE_LOST',
  });
}

/** `up --verify`: the stack is up; prove it end to end (exit 1 when a check fails). */
async function verifyAfterUp(ctx: CommandContext, stack: Stack, runtime: Runtime): Promise<number> {
  const state = await loadState(ctx.env);
  if (!state) return ExitCode.failure;
  ctx.out.info('');
  const { verifyStack } = await import('./verify.js');
  const { code, report } = await verifyStack(ctx, { stack, state, runtime });
  ctx.out.result({ verify: report });
  return code;
}

export const command = defineCommand({
  name: 'up',
  // One command at a time changes the stack: a second `up` waits, then finds the stack running.
  lock: () => 'up',
  flags: {
    runtime: runtimeFlag,
    profile: profileFlagSpec,
    timeout: timeoutFlag('how long every component may take to become ready (default 180)'),
    'no-open': { type: 'boolean', default: false, description: 'do not open Grafana in the browser' },
    verify: { type: 'boolean', default: false, description: 'then prove the whole chain, as `mop-sandbox verify` does (exit 1 names the failed check)' },
    [ALLOW_NON_LOOPBACK_FLAG]: allowNonLoopbackFlag,
    'no-wait': noWaitFlag,
  },
  notes: ['Nothing is created before every preflight check passed. When the stack is already up and healthy, prints its status and changes nothing.'],
  async run(ctx) {
    const { out, env } = ctx;
    const began = Date.now();
    const choice = parseRuntimeChoice(ctx.flags.runtime);
    const profile = profileFlag(ctx.flags.profile);
    const readyTimeoutMs = parseDuration(ctx.flags.timeout, '--timeout');
    const previous = await loadState(env);
    const stack = stackFor(ctx, previous, profile ? { profile } : {});
    for (const w of exposureWarnings(stack, resolveStackOptions(env), ctx.flags[ALLOW_NON_LOOPBACK_FLAG])) out.warn(w);
    const { runtime, reason } = await ctx.runtimes.select(choice, { exec: ctx.exec, env });

    out.info(`runtime ${runtime.name} (${reason}), project ${runtime.project}, profile ${stack.profile.name}`);
    // Preflight: nothing is created before every check passed.
    const pre = out.step('preflight');
    const checks = await runtime.preflight(stack);
    const blocking = preflightError(checks);
    if (blocking) {
      pre.fail(`${checks.filter((c) => !c.ok && c.severity === 'error').length} failed`);
      throw blocking;
    }
    pre.ok(checks.filter((c) => c.ok && c.id !== 'config').map((c) => c.detail).join('; '));
    for (const c of checks.filter((x) => !x.ok)) out.warn(`${c.detail}${c.fix ? ` (${c.fix})` : ''}`);
    if (ctx.signal.aborted) throw interrupted();

    // Already running: print the status and change nothing (kind re-applies instead: a no-op unless something changed).
    const existing = await runtime.status(stack);
    if (existing.length && existing.every(isHealthy) && !runtime.reappliesWhenRunning) {
      out.info(`mop-sandbox is already running (${runtime.name}, project ${runtime.project}); nothing changed.`);
      printStatus(out, existing);
      out.result({ alreadyRunning: true, runtime: runtime.name, project: runtime.project, profile: stack.profile.name, components: existing });
      return ctx.flags.verify ? verifyAfterUp(ctx, stack, runtime) : ExitCode.ok;
    }

    // No state file, but data of an earlier `up`: new credentials would not open it (Grafana keeps its first admin
    // password), and `credentials` would show one that does not work.
    const kept = previous ? [] : ((await runtime.keptData?.()) ?? []);
    if (kept.length) throw stateLost(kept, stateFile(env));
    const state = await ensureState(env);
    state.active = {
      runtime: runtime.name,
      profile: stack.profile.name,
      project: runtime.project,
      startedAt: new Date().toISOString(),
      hostPorts: Object.fromEntries(stack.published.map((p) => [`${p.component}.${p.name}`, p.hostPort])),
    };
    await saveState(state, env);

    let ready;
    try {
      ready = await runtime.up(stack, { credentials: state.credentials, signal: ctx.signal, out, readyTimeoutMs });
    } catch (e) {
      if (ctx.signal.aborted) {
        // The runtime removed what it started; nothing remains for `down` but the data volumes.
        const s = await loadState(env);
        if (s) {
          delete s.active;
          await saveState(s, env);
        }
      }
      throw e;
    }
    const seconds = (Date.now() - began) / 1000;

    const rows = stack.components.map((c) => ({ name: c.name, readySeconds: ready[c.name], url: c.oneShot ? undefined : uiUrl(stack, c.name) }));
    const grafana = uiUrl(stack, 'grafana');
    const login = {
      url: grafana,
      user: 'admin',
      password: 'run `mop-sandbox credentials` to see it',
      anonymousViewer: stack.profile.grafanaAnonymousViewer,
    };
    out.info('');
    out.info(`mop-sandbox is up in ${seconds.toFixed(1)}s (${runtime.name}, project ${runtime.project}, profile ${stack.profile.name}).`);
    out.table(
      ['COMPONENT', 'READY', 'URL'],
      rows.map((r) => [r.name, r.readySeconds === undefined ? '-' : `${r.readySeconds.toFixed(1)}s`, r.url ?? '-']),
    );
    out.info('');
    if (grafana) {
      out.info(`Grafana: ${grafana}`);
      out.info(
        `  log in as admin; the password: \`mop-sandbox credentials\`${login.anonymousViewer ? ' (or browse without logging in, as a Viewer)' : ''}`,
      );
    }
    const otlp = ['otlp-grpc', 'otlp-http'].flatMap((port) => endpointUrl(stack, 'alloy', port)?.replace('http://', `${port.replace('otlp-', '')} `) ?? []);
    if (otlp.length) out.info(`Send OTLP to: ${otlp.join(', ')}`);
    out.info('Stop: `mop-sandbox down` (keeps data), `mop-sandbox down --purge` (deletes it).');
    out.result({ alreadyRunning: false, runtime: runtime.name, project: runtime.project, profile: stack.profile.name, seconds, components: rows, grafana: login });

    if (grafana && !ctx.flags['no-open'] && out.mode !== 'json' && hasDisplay(env)) {
      if (!(await openInBrowser(grafana))) out.warn(`could not open a browser; open ${grafana} yourself`);
    }
    return ctx.flags.verify ? verifyAfterUp(ctx, stack, runtime) : ExitCode.ok;
  },
});
