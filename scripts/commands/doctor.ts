import { defineCommand, profileFlagSpec, runtimeFlag } from './command.js';
import { ExitCode } from '../lib/errors.js';
import { loadState } from '../lib/state.js';
import { profileFlag, stackFor } from './_shared.js';
import type { PreflightCheck } from '../runtimes/runtime.js';
import { parseRuntimeChoice } from '../runtimes/provider.js';

export const command = defineCommand({
  name: 'doctor',
  flags: { runtime: runtimeFlag, profile: profileFlagSpec },
  notes: ['Checks Docker, compose v2, the host ports, memory and the config files; creates nothing.'],
  async run(ctx) {
    const { out, env, exec } = ctx;
    const choice = parseRuntimeChoice(ctx.flags.runtime);
    const profile = profileFlag(ctx.flags.profile);
    const state = await loadState(env).catch(() => undefined);
    const stack = stackFor(ctx, state, profile ? { profile } : {});
    const runtime = await ctx.runtimes.recorded(choice === 'kind' ? 'kind' : choice === 'compose' ? 'compose' : state?.active?.runtime, { exec, env });
    const checks: PreflightCheck[] = await runtime.preflight(stack);

    const [major, minor] = process.versions.node.split('.').map(Number);
    checks.push({
      id: 'node',
      title: 'Node.js >= 20.19',
      ok: major > 20 || (major === 20 && minor >= 19),
      severity: 'error',
      detail: `Node.js ${process.versions.node}`,
      fix: 'install Node.js 20.19 or newer (https://nodejs.org, or `nvm install 20`)',
    });
    if (runtime.name === 'compose') {
      const [kind, kubectl, kindRuntime] = await Promise.all([exec.which('kind'), exec.which('kubectl'), ctx.runtimes.hasKind()]);
      const missing = [!kind && 'kind', !kubectl && 'kubectl'].filter(Boolean);
      checks.push({
        id: 'kind',
        title: 'kind runtime available (optional)',
        ok: Boolean(kindRuntime) && !missing.length,
        severity: 'warn',
        detail: !kindRuntime ? 'this build has no kind runtime; compose is used' : missing.length ? `${missing.join(' and ')} not installed; compose is used` : 'kind and kubectl installed',
        fix: !kindRuntime ? undefined : 'optional: install kind (https://kind.sigs.k8s.io) and kubectl to run the stack on Kubernetes',
      });
    }

    for (const c of checks) {
      const mark = c.ok ? '✓' : c.severity === 'error' ? '✗' : '!';
      out.info(`${mark} ${c.title}: ${c.detail}`);
      if (!c.ok && c.fix) out.info(`    fix: ${c.fix}`);
    }
    const failed = checks.filter((c) => !c.ok && c.severity === 'error');
    out.info('');
    out.info(failed.length ? `${failed.length} check${failed.length === 1 ? '' : 's'} failed; \`mop-sandbox up\` would stop before creating anything.` : 'ready for `mop-sandbox up`.');
    out.result({ runtime: runtime.name, project: runtime.project, profile: stack.profile.name, checks, ok: failed.length === 0 });
    return failed.length ? ExitCode.preflight : ExitCode.ok;
  },
});
