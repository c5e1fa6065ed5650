/**
 * What the compose runtime tells the user when `up` does not finish: a port taken meanwhile, compose's own error,
 * a component that failed or timed out (with its last log lines), a full disk; and Ctrl-C.
 */
import { containerName, logTail } from '../../lib/docker.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import { stderrTail } from '../../lib/exec.js';
import { portConflictIn } from '../../lib/ports.js';
import type { Stack } from '../../stack/model.js';
import { diskFix, diskFullLine } from '../disk.js';
import { NotReady } from '../readiness.js';
import { byService, client, type ComposeContext, logLines, projectContainers } from './context.js';

const secs = (ms: number) => `${ms < 10_000 ? Number((ms / 1000).toFixed(1)) : Math.round(ms / 1000)}s`;

export const interrupted = () =>
  new UserError({
    what: 'interrupted',
    why: 'Ctrl-C while the stack was starting',
    next: 'run `mop-sandbox up` to start again; data volumes were kept (`mop-sandbox down --purge` removes them)',
    exitCode: ExitCode.interrupted,
    code: 'INTERRUPTED',
  });

export async function failureError(cx: ComposeContext, stack: Stack, e: NotReady, timeoutMs: number): Promise<UserError> {
  if (e.reason === 'external') {
    const port = portConflictIn(e.detail);
    if (port !== undefined) {
      return new UserError({
        what: `host port ${port} was taken while the stack was starting`,
        why: e.detail.split('\n').slice(-1)[0],
        next: 'run `mop-sandbox doctor` to see who holds it, free it or choose another port (MOP_PORT_<COMPONENT>_<PORT>), then `mop-sandbox up`',
        exitCode: ExitCode.preflight,
        code: 'PORT_IN_USE',
      });
    }
    return new UserError({
      what: '`docker compose up` failed',
      why: stderrTail(e.detail, 1),
      details: stderrTail(e.detail, 15).split('\n'),
      next: `run \`mop-sandbox status\` and \`mop-sandbox logs\` to see what is running; \`mop-sandbox down\` removes it`,
      exitCode: ExitCode.failure,
      code: 'COMPOSE_FAILED',
    });
  }
  const services = byService(await projectContainers(cx).catch(() => []));
  const details: string[] = [];
  for (const name of e.components) {
    for (const s of services.get(name) ?? []) {
      const lines = await logTail(client(cx), s.Id, logLines);
      details.push(`last ${lines.length} log lines of ${name} (${containerName(s)}):`, ...lines.map((l) => `  | ${l}`));
    }
  }
  const names = e.components.join(', ');
  const one = e.components.length === 1 ? e.components[0] : undefined;
  const full = diskFullLine(details);
  if (full) {
    return new UserError({
      what: `${names} ran out of disk space while the stack was starting`,
      why: `its log says: ${full.replace(/^\s*\|\s*/, '').trim().slice(0, 160)}`,
      details,
      next: `${diskFix}; then \`mop-sandbox up\``,
      exitCode: ExitCode.notReady,
      code: 'DISK_FULL',
    });
  }
  if (e.reason === 'failed') {
    const c = stack.components.find((x) => x.name === one);
    return new UserError({
      what: `${names} ${e.detail}${c?.oneShot ? ' before finishing its job' : ''}`,
      why: `${c?.title ?? names} stopped while the stack was starting`,
      details,
      next: `read the log lines above (\`mop-sandbox logs ${one ?? ''}\` shows more); fix the cause, then \`mop-sandbox up\` again, or \`mop-sandbox down\` to remove the stack`,
      exitCode: ExitCode.notReady,
      code: 'COMPONENT_FAILED',
    });
  }
  return new UserError({
    what: `${names} not ready after ${secs(timeoutMs)}`,
    why: `${e.detail.replace(/^not ready after [^(]*\((.*)\)$/, '$1')}`,
    details,
    next: `read the log lines above (\`mop-sandbox logs ${one ?? ''}\` shows more). On a slow machine or network, wait longer: \`mop-sandbox up --timeout ${Math.round((timeoutMs * 2) / 1000)}\`. \`mop-sandbox down\` removes the stack`,
    exitCode: ExitCode.notReady,
    code: 'COMPONENT_TIMEOUT',
  });
}
