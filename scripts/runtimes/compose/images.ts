/** The images stage of the compose runtime: pull what is missing (a few at a time, with retries), build the demo. */
import { ExitCode, UserError } from '../../lib/errors.js';
import { CommandFailed, stderrTail } from '../../lib/exec.js';
import type { Component, Stack } from '../../stack/model.js';
import type { UpContext } from '../runtime.js';
import { base, client, type ComposeContext, getEngine } from './context.js';

/** Pulls that will not succeed on retry. */
/**
 * Pull failures grouped by cause (stderr's last line, with the image's own name taken out), so that fourteen images
 * failing for one reason (no network, a mirror refusing) read as one line listing the fourteen.
 */
export function pullFailureGroups(failures: { image: string; stderr: string }[]): { cause: string; images: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const f of failures) {
    const repo = f.image.replace(/[:@][^/]*$/, '');
    const cause = stderrTail(f.stderr, 1).split(f.image).join('<image>').split(repo).join('<image>') || 'no error output';
    groups.set(cause, [...(groups.get(cause) ?? []), f.image]);
  }
  return [...groups].map(([cause, images]) => ({ cause, images }));
}

const definitivePull = /not found|manifest unknown|unauthorized|denied|no such host|repository does not exist|invalid reference/i;

/**
 * Podman does not serve BuildKit's session API, so compose's default BuildKit build fails against it ("booting
 * buildkit"); the classic builder works (containers/podman#13889: DOCKER_BUILDKIT=0 is the maintainers' fix;
 * `podman compose` sets it itself). The demo's Dockerfile uses no BuildKit-only feature.
 */
export async function buildEnv(cx: ComposeContext, composeEnv: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  return (await getEngine(cx)).product === 'Podman' ? { ...composeEnv, DOCKER_BUILDKIT: '0' } : composeEnv;
}

/**
 * Pulls what is missing (never re-pulls a pinned image that is present) and builds what is built locally, side by
 * side: the demo's build (on a first run its base image and `npm ci`, often the longest step) needs none of the
 * pulled images, so it does not wait for them. A pull that fails for good stops a build still running.
 */
export async function prepareImages(cx: ComposeContext, stack: Stack, ctx: UpContext, composeEnv: NodeJS.ProcessEnv): Promise<void> {
  const toBuild = stack.components.filter((c) => c.build);
  const pulled = [...new Map(stack.components.filter((c) => !c.build).map((c) => [c.image, c] as const)).values()];
  const present = await Promise.all(
    pulled.map((c) =>
      client(cx)
        .getImage(c.image)
        .inspect()
        .then(() => true)
        .catch(() => false),
    ),
  );
  const toPull = pulled.filter((_, i) => !present[i]);
  if (!toPull.length && !toBuild.length) {
    ctx.out.step(`images: all ${pulled.length} present locally`).ok('no pull needed');
    return;
  }
  const steps = ctx.out.group([...toPull.map((c) => `pull ${c.image}`), ...toBuild.map((c) => `build ${c.image}`)]);
  const failures: { c: Component; err: CommandFailed }[] = [];
  // Stops the builds when a pull fails for good (up fails anyway) or on Ctrl-C.
  const builds = new AbortController();
  const stopBuilds = () => builds.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', stopBuilds, { once: true });
  const pullOne = async (c: Component, i: number) => {
    const started = Date.now();
    for (let attempt = 1; ; attempt++) {
      const r = await cx.exec.run('docker', [...base(cx), 'pull', '--quiet', c.name], { env: composeEnv, signal: ctx.signal, allowFail: true });
      if (r.exitCode === 0) return steps[i].ok(`${((Date.now() - started) / 1000).toFixed(1)}s`);
      if (ctx.signal.aborted) return steps[i].fail('interrupted');
      if (attempt >= 3 || definitivePull.test(r.stderr)) {
        // The cause is said once per distinct error in the UserError below, not on every image's line.
        steps[i].fail('failed');
        failures.push({ c, err: new CommandFailed(`docker ${[...base(cx), 'pull', c.name].join(' ')}`, r.exitCode, r.stderr, r.stdout) });
        builds.abort();
        return;
      }
      steps[i].update(`retrying (attempt ${attempt + 1} of 3)`);
      await new Promise((res) => setTimeout(res, 2000 * attempt));
    }
  };
  // A few pulls at a time: parallel enough to fill the link, few enough to show progress.
  const queue = toPull.map((c, i) => () => pullOne(c, i));
  const pulls = Promise.all(
    Array.from({ length: Math.min(4, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
  let buildFailure: UserError | undefined;
  const buildAll = async () => {
    for (const [j, c] of toBuild.entries()) {
      const i = toPull.length + j;
      if (failures.length || builds.signal.aborted || buildFailure) {
        steps[i].fail('skipped');
        continue;
      }
      const started = Date.now();
      const r = await cx.exec.run('docker', [...base(cx), 'build', c.name], { env: await buildEnv(cx, composeEnv), signal: builds.signal, allowFail: true });
      if (r.exitCode === 0) steps[i].ok(`${((Date.now() - started) / 1000).toFixed(1)}s`);
      else if (ctx.signal.aborted) steps[i].fail('interrupted');
      else if (builds.signal.aborted) steps[i].fail('stopped: a pull failed');
      else {
        steps[i].fail(stderrTail(r.stderr, 1));
        buildFailure = new UserError({
          what: `building the ${c.name} image failed`,
          why: stderrTail(r.stderr, 1),
          details: stderrTail(r.stderr, 20).split('\n'),
          next: `set MOP_IMAGE_${c.name.toUpperCase()} to a prebuilt image, or run \`docker compose -f ${cx.file} build ${c.name}\` to see the whole build`,
          exitCode: ExitCode.failure,
          code: 'IMAGE_BUILD_FAILED',
        });
      }
    }
  };
  try {
    await Promise.all([pulls, buildAll()]);
  } finally {
    ctx.signal.removeEventListener('abort', stopBuilds);
  }
  if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('interrupted');
  if (failures.length) {
    const groups = pullFailureGroups(failures.map((f) => ({ image: f.c.image, stderr: f.err.stderr })));
    throw new UserError({
      what: failures.length === 1 ? `could not pull ${failures[0].c.image}` : `could not pull ${failures.length} images`,
      why: groups.length === 1 ? groups[0].cause : `${groups.length} different errors, each below with its images`,
      details: groups.length === 1 && failures.length === 1 ? stderrTail(failures[0].err.stderr, 5).split('\n') : groups.map((g) => `${g.cause}: ${g.images.join(', ')}`),
      next:
        'check the network and `docker login`; behind a mirror set MOP_REGISTRY_MIRROR=<host>/; offline, load the images first (`docker load`) or point MOP_IMAGE_<COMPONENT> at images you have',
      exitCode: ExitCode.preflight,
      code: 'IMAGE_PULL_FAILED',
    });
  }
  if (buildFailure) throw buildFailure;
}
