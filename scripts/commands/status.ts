import { AlloyClient } from '../clients/alloy.js';
import { HttpClient } from '../clients/http.js';
import type { Stack } from '../stack/model.js';
import { defineCommand } from './command.js';
import { ExitCode } from '../lib/errors.js';
import type { Output } from '../lib/output.js';
import { current, stackFor } from './_shared.js';
import { isHealthy, type ComponentStatus } from '../runtimes/runtime.js';
import { secretNames } from '../stack/model.js';
import { diskFix, diskLow } from '../runtimes/disk.js';
import { describeLockHolder, holderAlive, peekLock } from '../lib/lock.js';

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function printStatus(out: Output, list: ComponentStatus[]): void {
  out.table(
    ['COMPONENT', 'STATE', 'HEALTH', 'URL', 'DETAIL'],
    list.map((s) => [s.name, s.state, s.health, s.url ?? '-', s.detail ?? '']),
  );
}

/**
 * On compose, container logs reach Loki only while Alloy can read the Docker API (the socket proxy), and Alloy's own health does
 * not show it: ask Alloy's component API (clients/alloy.ts) once Alloy runs and its UI answers on its published port.
 */
async function logCollectionWarnings(runtime: string, stack: Stack, list: ComponentStatus[]): Promise<string[]> {
  const alloy = stack.components.find((c) => c.collectsLogs);
  const row = alloy && list.find((s) => s.name === alloy.name);
  if (runtime !== 'compose' || !row?.url || row.state !== 'running') return [];
  const logs = await new AlloyClient(new HttpClient({ baseUrl: new URL(row.url).origin, timeoutMs: 3000 })).dockerLogCollection();
  return logs.ok ? [] : [`container logs are not reaching Loki: ${logs.detail}`];
}

export const command = defineCommand({
  name: 'status',
  flags: { 'show-secrets': { type: 'boolean', default: false, description: 'also print the generated credentials' } },
  async run(ctx) {
    const { out } = ctx;
    const { state, runtime } = await current(ctx);
    const stack = stackFor(ctx, state);
    const list = await runtime.status(stack);
    // Read-only: never waits for the lock, but says when another command is changing the stack.
    const holder = await peekLock(ctx.env).then((h) => (h && holderAlive(h) ? h : undefined));
    if (holder) out.info(`${describeLockHolder(holder)} is changing the stack right now`);
    const secrets = ctx.flags['show-secrets'] && state ? state.credentials : undefined;
    if (!list.length) {
      out.info(`mop-sandbox is not running (${runtime.name}, project ${runtime.project}). Start it: \`mop-sandbox up\``);
      out.result({
        running: false,
        healthy: false,
        runtime: runtime.name,
        project: runtime.project,
        components: [],
        ...(holder ? { changing: { pid: holder.pid, command: holder.command, since: holder.since } } : {}),
      });
      return ExitCode.failure;
    }
    const healthy = list.every(isHealthy);
    const [disk, warnings] = await Promise.all([runtime.disk?.(stack).catch(() => undefined), logCollectionWarnings(runtime.name, stack, list)]);
    printStatus(out, list);
    for (const w of warnings) out.warn(w);
    if (disk && diskLow(disk)) out.warn(`low disk: ${gib(disk.free!)} free where Docker keeps volumes (${disk.path}), the data needs ${gib(disk.needs)}; ${diskFix}`);
    out.info('');
    out.info(
      healthy
        ? `all ${list.length} components healthy (${runtime.name}, project ${runtime.project}, profile ${stack.profile.name})`
        : `not healthy: ${list.filter((s) => !isHealthy(s)).map((s) => s.name).join(', ')}; see \`mop-sandbox logs <component>\``,
    );
    if (secrets) {
      out.info('');
      out.table(['CREDENTIAL', 'VALUE'], [['Grafana user', 'admin'], ...secretNames.map((n) => [n, secrets[n]])]);
    }
    out.result({
      running: true,
      healthy,
      runtime: runtime.name,
      project: runtime.project,
      profile: stack.profile.name,
      components: list,
      warnings,
      ...(disk ? { disk: { path: disk.path, free: disk.free, needs: disk.needs, low: diskLow(disk), ...(disk.unmeasured ? { unmeasured: disk.unmeasured } : {}) } } : {}),
      ...(holder ? { changing: { pid: holder.pid, command: holder.command, since: holder.since } } : {}),
      ...(secrets ? { credentials: { GRAFANA_ADMIN_USER: 'admin', ...secrets } } : {}),
    });
    return healthy ? ExitCode.ok : ExitCode.failure;
  },
});
