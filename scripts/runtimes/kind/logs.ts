/** `logs` on kind: `kubectl logs` by component label in the namespace of the last `up`. */
import { UserError } from '../../lib/errors.js';
import { stderrTail } from '../../lib/exec.js';
import { type ComponentName, ownNamespaceName } from '../../stack/model.js';
import type { LogOptions } from '../runtime.js';
import { clusterExists, ensureKubeconfig, type KindContext, kubectl, kubectlHint, ourNamespaces, ownedNamespaces, readRecord, toolMissing } from './context.js';
import { NAME_LABEL } from './kube-state.js';

/** The namespace of the last `up` if it still exists, else any of ours. */
export async function activeNamespace(cx: KindContext): Promise<string | undefined> {
  const all = await ourNamespaces(cx);
  const last = (await readRecord(cx))?.namespace;
  return last && all.includes(last) ? last : all[0];
}

export async function logs(cx: KindContext, component: ComponentName | undefined, opts: LogOptions): Promise<void> {
  const notRunning = (why: string) =>
    new UserError({ what: 'no logs to show: the stack is not running on kind', why, next: 'start it: `mop-sandbox up --runtime kind`', code: 'NOT_RUNNING' });
  if (!(await clusterExists(cx, true))) throw notRunning(`there is no kind cluster named ${cx.project}`);
  await ensureKubeconfig(cx);
  const ns = await activeNamespace(cx);
  if (!ns) throw notRunning(`the kind cluster ${cx.project} has no mop-sandbox namespace`);
  // A component with a namespace of its own (OBI) logs there; without a component, every namespace of the stack.
  const owned = await ownedNamespaces(cx, ns, opts.signal);
  const own = component && owned.includes(ownNamespaceName(ns, component)) ? ownNamespaceName(ns, component) : ns;
  const targets = component ? [own] : [ns, ...owned];
  const args = (n: string) => [
    'logs',
    '-n',
    n,
    '-l',
    component ? `${NAME_LABEL}=${component}` : NAME_LABEL,
    // `--tail all` reaches us as a huge number; kubectl spells "everything" -1.
    `--tail=${opts.tail >= Number.MAX_SAFE_INTEGER ? -1 : opts.tail}`,
    '--prefix',
    '--max-log-requests=50',
    ...(opts.follow ? ['-f', '--ignore-errors'] : []),
  ];
  // "[pod/tempo-0/tempo] msg": the container is named after its component.
  const format = (line: string) => {
    const m = /^\[pod\/[^/\]]+\/([^\]]+)\] ?(.*)$/.exec(line);
    if (!m) return line;
    return component ? m[2] : `${m[1]} | ${m[2]}`;
  };
  // One kubectl per namespace, side by side (each follows its own), each with its own partial line.
  const results = await Promise.all(
    targets.map(async (n) => {
      let partial = '';
      const onStdout = (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) opts.write(format(l.replace(/\r$/, '')));
      };
      const r = await kubectl(cx, args(n), { allowFail: true, signal: opts.signal, onStdout });
      if (partial) opts.write(format(partial));
      return r;
    }),
  );
  const r = results.find((x) => x.exitCode !== 0 && !x.stdout.trim()) ?? results[0];
  if (opts.signal.aborted) return;
  if (r.exitCode === 127) throw toolMissing('kubectl');
  if (r.exitCode !== 0 && !r.stdout.trim()) {
    throw new UserError({
      what: `kubectl could not read the logs${component ? ` of ${component}` : ''}`,
      why: stderrTail(r.stderr, 1) || `exit ${r.exitCode}`,
      next: `check that it runs: \`mop-sandbox status\`; or ask kubectl directly: \`${kubectlHint(cx, own)} logs -l ${NAME_LABEL}${component ? `=${component}` : ''}\``,
      code: 'LOGS_FAILED',
    });
  }
}
