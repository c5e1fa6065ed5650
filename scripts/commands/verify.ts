import { defineCommand, timeoutFlag, type CommandContext } from './command.js';
import { ExitCode, UserError } from '../lib/errors.js';
import type { Output } from '../lib/output.js';
import { current, parseDuration, stackFor } from './_shared.js';
import type { Runtime } from '../runtimes/runtime.js';
import type { Stack } from '../stack/model.js';
import type { State } from '../lib/state.js';
import type { VerifyReport } from '../verify/index.js';

const notUp = (runtime: Runtime, why: string) =>
  new UserError({
    what: `no mop-sandbox stack is up (${runtime.name}, project ${runtime.project})`,
    why,
    next: 'start it with `mop-sandbox up` (or `mop-sandbox up --verify`), then run `mop-sandbox verify`',
    exitCode: ExitCode.preflight,
    code: 'NOT_RUNNING',
  });

/** Verify on a stack that is up: shared by `verify` and `up --verify`. Returns the exit code. */
export async function verifyStack(
  ctx: Pick<CommandContext, 'exec' | 'env' | 'signal'> & { out: Output },
  opts: { stack: Stack; state: State; runtime: Runtime; timeoutMs?: number; portForward?: boolean },
): Promise<{ code: number; report: VerifyReport }> {
  // The verify machinery (OTLP encoders, protobufjs) loads only when verify runs, not for `verify --help`.
  const { runVerify, verifyTargets } = await import('../verify/index.js');
  let forwarded;
  if (opts.portForward) {
    if (opts.runtime.name !== 'kind') ctx.out.warn('--port-forward only applies to kind; compose publishes its ports on 127.0.0.1');
    else {
      const { portForward } = await import('../verify/port-forward.js');
      forwarded = await portForward(ctx.exec, ctx.env, opts.stack, verifyTargets(opts.stack));
    }
  }
  try {
    const report = await runVerify({
      stack: opts.stack,
      credentials: opts.state.credentials,
      out: ctx.out,
      signal: ctx.signal,
      timeoutMs: opts.timeoutMs,
      forwarded: forwarded?.ports,
    });
    return { code: report.ok ? ExitCode.ok : ExitCode.failure, report };
  } finally {
    forwarded?.close();
  }
}

export const command = defineCommand({
  name: 'verify',
  flags: {
    timeout: timeoutFlag('how long each check may wait for the telemetry to arrive'),
    'port-forward': { type: 'boolean', default: false, description: 'kind only: reach the backends through kubectl port-forward' },
  },
  notes: [
    "Checks readiness, OTLP through Alloy into Tempo, Loki and Mimir, Grafana's datasources and dashboards, and every",
    'correlation (trace → logs, logs → trace, exemplar → trace, service graph).',
  ],
  async run(ctx) {
    const timeoutMs = parseDuration(ctx.flags.timeout, '--timeout');
    const { state, runtime } = await current(ctx);
    const stack = stackFor(ctx, state);
    const status = await runtime.status(stack);
    if (!status.length) throw notUp(runtime, 'the runtime reports no containers or pods of ours');
    if (!state) throw notUp(runtime, 'there is no state file with the generated credentials (was the stack started with `mop-sandbox up`?)');
    const { code, report } = await verifyStack(ctx, { stack, state, runtime, timeoutMs, portForward: ctx.flags['port-forward'] });
    ctx.out.result({ verify: report });
    return code;
  },
});
