import { defineCommand, noWaitFlag } from './command.js';
import { ExitCode, isUserError } from '../lib/errors.js';
import { loadState, removeState, saveState, type State } from '../lib/state.js';
import type { DownResult, Runtime } from '../runtimes/runtime.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const command = defineCommand({
  name: 'down',
  flags: { purge: { type: 'boolean', default: false, description: 'also delete the data volumes and the state file (credentials)' }, 'no-wait': noWaitFlag },
  lock: (flags) => (flags.purge ? 'down --purge' : 'down'),
  async run(ctx) {
    const { out, env } = ctx;
    const purge = ctx.flags.purge;
    let state: State | undefined;
    try {
      state = await loadState(env);
    } catch (e) {
      // A broken state file must not stop a purge: it is about to be deleted anyway.
      if (!(purge && isUserError(e, 'STATE_INVALID'))) throw e;
    }
    const deps = { exec: ctx.exec, env, log: (line: string) => out.info(line) };
    const runtime = await ctx.runtimes.recorded(state?.active?.runtime, deps);
    // Without a record of what `up` made (never started, interrupted, a lost state file), or when purging,
    // also clean the other runtime: a kind cluster left behind would otherwise hold its host ports for ever.
    const runtimes: Runtime[] = [runtime];
    if (purge || !state?.active) {
      const other = await ctx.runtimes.other(runtime.name, deps);
      if (other) runtimes.push(other);
    }
    const step = out.step(`${purge ? 'purge' : 'down'} (${runtimes.map((x) => x.name).join(' and ')}, project ${runtime.project})`);
    const r: DownResult = { containers: 0, networks: 0, volumes: 0, volumesKept: 0 };
    try {
      for (const rt of runtimes) {
        const one = await rt.down({ purge });
        for (const k of Object.keys(r) as (keyof DownResult)[]) r[k] += one[k];
      }
    } catch (e) {
      step.fail();
      throw e;
    }
    if (purge) await removeState(env);
    else if (state?.active) {
      delete state.active;
      await saveState(state, env);
    }
    const removed = [r.containers && plural(r.containers, 'container'), r.networks && plural(r.networks, 'network'), r.volumes && plural(r.volumes, 'data volume')].filter(Boolean);
    step.ok(removed.length ? `removed ${removed.join(', ')}` : 'nothing was running');
    if (purge) out.info(`Deleted the data and the state file (credentials); the next \`mop-sandbox up\` starts fresh.`);
    else if (r.volumesKept) out.info(`Kept ${plural(r.volumesKept, 'data volume')}; \`mop-sandbox up\` brings the data back, \`mop-sandbox down --purge\` deletes it.`);
    out.result({ runtime: runtime.name, project: runtime.project, purge, ...r, stateRemoved: purge });
    return ExitCode.ok;
  },
});
