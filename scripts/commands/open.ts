import { defineCommand } from './command.js';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import { current, hasDisplay, openInBrowser, stackFor } from './_shared.js';
import { uiUrl } from '../stack/urls.js';
import { component, type ComponentName } from '../stack/model.js';

const openable: ComponentName[] = ['grafana', 'alloy', 'tempo', 'mimir', 'loki', 'store', 'demo'];

export const command = defineCommand({
  name: 'open',
  args: `[${openable.join('|')}]`,
  flags: {},
  notes: ['Without a component: grafana. Without a display (CI, SSH): prints the URL only.'],
  async run(ctx) {
    const { out, env } = ctx;
    if (ctx.args.length > 1) throw usageError(`open takes one component, got ${ctx.args.length}`);
    const name = (ctx.args[0] ?? 'grafana') as ComponentName;
    if (!openable.includes(name)) throw usageError(`cannot open "${name}"`, `choose one of: ${openable.join(', ')}`);
    const { state, runtime } = await current(ctx);
    const stack = stackFor(ctx, state);
    if (!component(stack, name)) throw usageError(`${name} is not part of this stack (profile ${stack.profile.name})`);
    const list = await runtime.status(stack);
    const s = list.find((x) => x.name === name);
    if (!s || s.state === 'missing') {
      throw new UserError({
        what: `${name} is not running (${runtime.name}, project ${runtime.project})`,
        next: 'start the stack: `mop-sandbox up`',
        exitCode: ExitCode.failure,
        code: 'NOT_RUNNING',
      });
    }
    const url = s.url ?? uiUrl(stack, name);
    if (!url) {
      throw usageError(
        `${name} has no web address`,
        name === 'store' ? 'the store console is off by default: set MOP_STORE_CONSOLE=true (or "storeConsole": true in the settings file), then `mop-sandbox up`' : undefined,
      );
    }
    const display = hasDisplay(env) && out.mode !== 'json';
    const opened = display ? await openInBrowser(url) : false;
    out.info(opened ? `opened ${url}` : `${url}${display ? ' (could not start a browser; open it yourself)' : ''}`);
    if (s.health !== 'healthy' && s.health !== 'none') out.warn(`${name} is ${s.health}${s.detail ? `: ${s.detail}` : ''}`);
    out.result({ component: name, url, opened });
    return ExitCode.ok;
  },
});
