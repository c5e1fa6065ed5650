/**
 * The start stage of the compose runtime: refuse a project name another stack uses, write the compose file, and
 * run `docker compose up -d` (the wait stage watches beside it).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerName, type ContainerSummary, supportsStartInterval } from '../../lib/docker.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import { configDir, dashboardsDir, packageRoot } from '../../lib/paths.js';
import { stateDir } from '../../lib/state.js';
import { renderCompose } from '../../render/compose.js';
import { type Stack, stackLabel } from '../../stack/model.js';
import { planEngine } from '../engine-plan.js';
import { base, type ComposeContext, getEngine, isOwn, labelledContainers, projectLabel } from './context.js';

function projectTaken(project: string, foreign: ContainerSummary[]): UserError {
  const names = foreign.map(containerName);
  return new UserError({
    what: `the compose project "${project}" already has containers that mop-sandbox did not create`,
    why: `${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''} carry the project label ${projectLabel}=${project} but not ${stackLabel}; starting would let compose remove them as orphans`,
    next: `choose another project name (MOP_PROJECT=<name> mop-sandbox up), or stop that other project first`,
    exitCode: ExitCode.preflight,
    code: 'PROJECT_TAKEN',
  });
}

/**
 * `compose up --remove-orphans` removes every container with the project label that the file does not name:
 * refuse before it can touch another project that happens to share the name.
 */
export async function refuseForeignProject(cx: ComposeContext): Promise<void> {
  const foreign = (await labelledContainers(cx)).filter((c) => !isOwn(c.Labels, cx.project));
  if (foreign.length) throw projectTaken(cx.project, foreign);
}

export async function render(cx: ComposeContext, stack: Stack): Promise<void> {
  const eng = await getEngine(cx);
  const yaml = renderCompose(stack, {
    projectName: cx.project,
    paths: { config: configDir, dashboards: dashboardsDir, buildContext: packageRoot },
    startInterval: supportsStartInterval(eng),
    engine: planEngine(eng, cx.platform, cx.deps.hostProbe).adaptations,
    header: [`Written by \`mop-sandbox up\` for project "${cx.project}"; configs are mounted from ${configDir}.`],
  });
  await mkdir(join(stateDir(cx.env), 'compose'), { recursive: true, mode: 0o700 });
  await writeFile(cx.file, yaml, { mode: 0o644 });
}


/** `docker compose up -d`: creates and starts every container; blocks on depends_on (buckets must complete first). */
export function startContainers(cx: ComposeContext, composeEnv: NodeJS.ProcessEnv, signal: AbortSignal) {
  return cx.exec.run('docker', [...base(cx), 'up', '-d', '--no-build', '--pull', 'never', '--remove-orphans'], { env: composeEnv, signal, allowFail: true });
}
