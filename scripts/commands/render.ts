/**
 * `mop-sandbox render`: writes what a person needs to run the stack by hand, for compose or kind.
 */
import { lstatSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
import { ensureState } from '../lib/state.js';
import type { RenderFile } from '../render/common.js';
import { buildStack, runtimeNames, type RuntimeName } from '../stack/model.js';
import { resolveStackOptions, type Settings } from '../stack/options.js';
import { ALLOW_NON_LOOPBACK_FLAG, exposureWarnings } from '../stack/exposure.js';
import { allowNonLoopbackFlag, defineCommand, profileFlagSpec } from './command.js';

const DEFAULT_OUT_PARENT = 'mop-render';

/** Bad input is one line: what is wrong and what to use instead. */
function oneLine(e: unknown): unknown {
  if (e instanceof UserError && e.exitCode === ExitCode.usage && e.next) {
    return new UserError({ what: `${e.what}; ${e.next}`, exitCode: e.exitCode, code: e.code, details: e.details });
  }
  return e;
}

/** Keeps the files holding credentials (mode 0600) out of git when the render lands inside a repository. */
function gitignoreFor(files: RenderFile[]): RenderFile {
  const secret = files.filter((f) => f.mode === 0o600).map((f) => `/${f.path}`);
  return { path: '.gitignore', content: ['# Written by mop-sandbox render: these files hold the generated credentials.', ...secret, ''].join('\n') };
}

export const command = defineCommand({
  name: 'render',
  flags: {
    runtime: {
      type: 'string',
      valueHint: 'compose|kind',
      default: 'compose',
      description: 'compose: DIR/docker-compose.yml, DIR/.env (credentials, 0600) and the configs it mounts; kind: DIR/kind-cluster.yaml and DIR/manifests/*.yaml',
    },
    profile: profileFlagSpec,
    store: { type: 'string', valueHint: 'minio|seaweedfs|external', env: 'MOP_STORE', description: 'the object store' },
    out: { type: 'string', short: 'o', valueHint: 'DIR', description: 'output directory (default ./mop-render/<runtime>-<profile>); it must be new, empty or an earlier render' },
    force: { type: 'boolean', default: false, description: 'replace files in --out that mop-sandbox did not write' },
    [ALLOW_NON_LOOPBACK_FLAG]: allowNonLoopbackFlag,
  },
  notes: ['The prod profile needs an external S3 endpoint: MOP_S3_ENDPOINT=host:port (or --store minio).'],
  async run(ctx) {
    try {
      const runtime = ctx.flags.runtime;
      if (!(runtimeNames as string[]).includes(runtime)) {
        throw usageError(`unknown runtime "${runtime}"; use one of: ${runtimeNames.join(', ')}`);
      }
      const flags: Settings = {};
      if (ctx.flags.profile !== undefined) flags.profile = ctx.flags.profile as Settings['profile'];
      if (ctx.flags.store !== undefined) flags.store = ctx.flags.store as Settings['store'];
      const opts = resolveStackOptions(ctx.env, flags);
      const stack = buildStack(opts);
      for (const w of exposureWarnings(stack, opts, ctx.flags[ALLOW_NON_LOOPBACK_FLAG])) ctx.out.warn(w);
      const profile = stack.profile.name;
      const outDir = resolve(ctx.flags.out ?? `${DEFAULT_OUT_PARENT}/${runtime}-${profile}`);
      // The default lies in the current directory, which may be a cloned repository: its mop-render must be ours.
      if (ctx.flags.out === undefined && lstatSync(DEFAULT_OUT_PARENT, { throwIfNoEntry: false })?.isSymbolicLink()) {
        throw usageError(`cannot write to ${resolve(DEFAULT_OUT_PARENT)}: it is a symlink`, 'choose a directory with --out');
      }
      const { credentials } = await ensureState(ctx.env);
      // The renderers (and the yaml package) load only when render runs, not for `render --help`.
      const [{ renderFiles }, { writeRender }] = await Promise.all([import('../render/index.js'), import('../render/write.js')]);
      const rendered = renderFiles({ runtime: runtime as RuntimeName, stack, credentials, outDir });
      const files = [...rendered, gitignoreFor(rendered)];
      const written = await writeRender(outDir, files, { refuseForeign: !ctx.flags.force });
      const rel = written.map((w) => relative(outDir, w));
      const sensitive = new Set(files.filter((f) => f.mode === 0o600).map((f) => f.path));

      ctx.out.result({ runtime, profile, store: stack.store, namespace: runtime === 'kind' ? stack.profile.namespace : undefined, out: outDir, files: rel });
      const what = runtime === 'compose' ? 'compose file' : `kind cluster config and manifests (namespace ${stack.profile.namespace})`;
      ctx.out.info(`Rendered the ${what} for profile ${profile} (object store ${stack.store}) into ${outDir}:`);
      for (const r of rel) ctx.out.info(`  ${r}${sensitive.has(r) ? '   (credentials, mode 0600)' : ''}`);
      if (runtime === 'compose') ctx.out.info(`Run it: docker compose -f ${outDir}/docker-compose.yml up -d --wait`);
      else ctx.out.info(`Run it: kind create cluster --config ${outDir}/kind-cluster.yaml && kubectl apply -f ${outDir}/manifests   (README.txt has every step)`);
      return ExitCode.ok;
    } catch (e) {
      throw oneLine(e);
    }
  },
});
