/**
 * The start stage of the compose runtime: refuse a project name another stack uses, write the compose file, and
 * run `docker compose up -d` (the wait stage watches beside it).
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { containerName, type ContainerSummary, supportsStartInterval } from '../../lib/docker.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import type { RenderFile } from '../../render/common.js';
import { composeRenderFiles, type EngineAdaptations } from '../../render/compose.js';
import { writeRender } from '../../render/write.js';
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

/** The compose folder `up` writes: the compose file and copies of every config and dashboard it mounts. */
export function composeFolderFiles(cx: Pick<ComposeContext, 'project'>, stack: Stack, startInterval: boolean, engine?: EngineAdaptations): RenderFile[] {
  return composeRenderFiles({
    stack,
    projectName: cx.project,
    startInterval,
    engine,
    envFile: false, // credentials reach compose as environment; state.json is their one copy
    header: [`Written by \`mop-sandbox up\` for project "${cx.project}", with copies of the configs and dashboards it mounts (rewritten by every \`up\`).`],
  });
}

/**
 * Writes the compose folder into the state directory (under the user's home, which every VM engine shares), the
 * same files `render --out` writes: the engine never mounts anything from the package's install folder.
 */
export async function render(cx: ComposeContext, stack: Stack): Promise<void> {
  const eng = await getEngine(cx);
  const dir = dirname(cx.file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    await writeRender(dir, composeFolderFiles(cx, stack, supportsStartInterval(eng), planEngine(eng, cx.platform, cx.deps.hostProbe).adaptations));
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    throw new UserError({
      what: `could not write the compose files to ${dir}`,
      why: e.what,
      next: 'make the state directory yours and writable (or point MOP_STATE_DIR at one that is), then run `mop-sandbox up` again',
      exitCode: ExitCode.preflight,
      code: 'STATE_UNWRITABLE',
    });
  }
}


/** `up`'s arguments: images are pulled and built before (prepareImages), so `up` only creates and starts. */
export const upArgs = ['up', '-d', '--no-build', '--pull', 'never', '--remove-orphans'] as const;

/** `docker compose up -d`: creates and starts every container; blocks on depends_on (buckets must complete first). */
export function startContainers(cx: ComposeContext, composeEnv: NodeJS.ProcessEnv, signal: AbortSignal) {
  return cx.exec.run('docker', [...base(cx), ...upArgs], { env: composeEnv, signal, allowFail: true });
}
