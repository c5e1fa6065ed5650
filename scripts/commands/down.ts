import type { Command } from './command.js';
import { ExitCode, UserError } from '../lib/errors.js';
import { loadState, removeState, saveState, type State } from '../lib/state.js';
import { runtimeFor } from '../runtimes/select.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const command: Command = {
  name: 'down',
  summary: 'Stop and remove the stack, keeping its data; --purge also deletes the data and the state file',
  usage: 'down [--purge] [--json]',
  options: { purge: { type: 'boolean', default: false } },
  async run(ctx) {
    const { out, env } = ctx;
    const purge = Boolean(ctx.flags.purge);
    let state: State | undefined;
    try {
      state = await loadState(env);
    } catch (e) {
      // A broken state file must not stop a purge: it is about to be deleted anyway.
      if (!(purge && e instanceof UserError && e.code === 'STATE_INVALID')) throw e;
    }
    const runtime = await runtimeFor(state?.active?.runtime, { exec: ctx.exec, env });
    const step = out.step(`${purge ? 'purge' : 'down'} (${runtime.name}, project ${runtime.project})`);
    let r;
    try {
      r = await runtime.down({ purge });
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
};
