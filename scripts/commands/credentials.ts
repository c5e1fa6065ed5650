import { defineCommand } from './command.js';
import { ExitCode, UserError } from '../lib/errors.js';
import { loadState, stateFile } from '../lib/state.js';
import { secretEnvName } from '../render/common.js';
import { secretNames } from '../stack/model.js';

export const command = defineCommand({
  name: 'credentials',
  flags: { env: { type: 'boolean', default: false, description: 'print them as NAME=value lines, the variables the compose file needs' } },
  notes: ['Prints the Grafana admin password and the S3 keys, kept in the state file (mode 0600).'],
  async run(ctx) {
    const { out } = ctx;
    const state = await loadState(ctx.env);
    if (!state) {
      throw new UserError({
        what: 'no credentials yet',
        why: `${stateFile(ctx.env)} does not exist`,
        next: '`mop-sandbox up` generates them on its first run',
        exitCode: ExitCode.failure,
        code: 'NO_CREDENTIALS',
      });
    }
    const c = state.credentials;
    if (ctx.flags.env) {
      // The variables the compose file requires, for running it by hand.
      for (const n of secretNames) out.info(`${secretEnvName(n)}=${c[n]}`);
    } else {
      out.table(['CREDENTIAL', 'VALUE'], [['Grafana user', 'admin'], ['Grafana password', c.GRAFANA_ADMIN_PASSWORD], ['S3 access key id', c.S3_ACCESS_KEY_ID], ['S3 secret access key', c.S3_SECRET_ACCESS_KEY]]);
      out.info('');
      out.info(`Kept in ${stateFile(ctx.env)} (mode 0600); \`mop-sandbox down --purge\` deletes them.`);
    }
    out.result({ credentials: { GRAFANA_ADMIN_USER: 'admin', ...c }, file: stateFile(ctx.env) });
    return ExitCode.ok;
  },
});
