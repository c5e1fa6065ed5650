import { defineCommand } from './command.js';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import { current } from './_shared.js';
import { componentNames } from '../stack/options.js';
import type { ComponentName } from '../stack/model.js';

export const command = defineCommand({
  name: 'logs',
  args: '[component]',
  flags: {
    follow: { type: 'boolean', short: 'f', default: false, description: 'keep printing new lines until Ctrl-C' },
    tail: { type: 'string', valueHint: 'N', default: '100', description: 'lines per component, or "all"' },
  },
  notes: [`Components: ${componentNames.join(', ')}; without one, all of them.`],
  async run(ctx) {
    const { out } = ctx;
    if (ctx.args.length > 1) throw usageError(`logs takes one component, got ${ctx.args.length}`, 'run `mop-sandbox logs tempo` or `mop-sandbox logs` for all');
    const name = ctx.args[0] as ComponentName | undefined;
    if (name && !componentNames.includes(name)) throw usageError(`unknown component "${name}"`, `components: ${componentNames.join(', ')}`);
    const tailFlag = ctx.flags.tail;
    const tail = tailFlag === 'all' ? Number.MAX_SAFE_INTEGER : Number(tailFlag);
    if (!Number.isInteger(tail) || tail < 0) throw usageError(`--tail "${tailFlag}" is not a number of lines`, 'e.g. --tail 50 (or --tail all)');
    const follow = ctx.flags.follow;
    if (follow && out.mode === 'json') throw usageError('--follow cannot be combined with --json', 'drop one of them');

    const { runtime } = await current(ctx);
    if (!(await runtime.exists())) {
      throw new UserError({
        what: `mop-sandbox is not running (${runtime.name}, project ${runtime.project}); there are no logs`,
        next: 'start it: `mop-sandbox up`',
        exitCode: ExitCode.failure,
        code: 'NOT_RUNNING',
      });
    }
    const lines: string[] = [];
    let count = 0;
    await runtime.logs(name, {
      follow,
      tail,
      signal: ctx.signal,
      write(line) {
        count++;
        if (out.mode === 'json') lines.push(line);
        else out.info(line);
      },
    });
    if (name && count === 0 && !follow) out.warn(`${name} has no container (or no output) in project ${runtime.project}`);
    out.result({ component: name ?? null, lines });
    return ExitCode.ok;
  },
});
