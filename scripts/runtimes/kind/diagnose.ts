/**
 * What the kind runtime tells the user when `up` does not finish: the component at fault, its pod's problem, the
 * last log lines and the next thing to try; and what Ctrl-C removed.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import { stderrTail } from '../../lib/exec.js';
import { type ComponentName, kubernetesNamespace, kubernetesNamespaces, type Stack } from '../../stack/model.js';
import { NotReady } from '../readiness.js';
import { kind, type KindContext, kubectl, kubectlHint } from './context.js';
import { loadHint } from './images.js';
import { describeProblem, type KubeList, NAME_LABEL, type PodProblem, podsOf, worstProblem } from './kube-state.js';
import { deleteWorkloads } from './teardown.js';

/** Teardown after Ctrl-C runs without the (aborted) signal, but not forever. */
export const CLEANUP_TIMEOUT_MS = 120_000;

/** The component(s) at fault, their pod's problem, the last 50 log lines, and the next thing to try. */
export async function notReadyError(cx: KindContext, e: NotReady, stack: Stack, timeoutMs: number): Promise<UserError> {
  const nsOf = (name: ComponentName) => {
    const c = stack.components.find((x) => x.name === name);
    return c ? kubernetesNamespace(stack, c) : stack.profile.namespace;
  };
  const culprits = e.components.slice(0, 3);
  const details: string[] = [];
  let first: { component: ComponentName; problem?: PodProblem } | undefined;
  for (const name of culprits) {
    const ns = nsOf(name);
    const r = await kubectl(cx, ['get', 'pods', '-n', ns, '-l', `${NAME_LABEL}=${name}`, '-o', 'json'], { allowFail: true });
    let pods: Pod[] = [];
    try {
      pods = r.exitCode === 0 ? podsOf(JSON.parse(r.stdout) as KubeList, name) : [];
    } catch {
      pods = [];
    }
    const problem = worstProblem(pods);
    first ??= { component: name, problem };
    if (!problem) {
      details.push(`${name}: ${pods.length ? 'its pods look fine now' : 'no pod was created'}`);
      continue;
    }
    details.push(`${name}: pod ${problem.pod}: ${describeProblem(problem)}`);
    const logArgs = ['logs', '-n', ns, `pod/${problem.pod}`, ...(problem.container ? ['-c', problem.container] : []), '--tail=50', ...(problem.previous ? ['--previous'] : [])];
    const logs = await kubectl(cx, logArgs, { allowFail: true });
    const lines = logs.stdout.replace(/\r/g, '').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
    if (logs.exitCode === 0 && lines.length) {
      details.push(`last ${Math.min(50, lines.length)} log lines of ${problem.pod}${problem.previous ? ' (previous container)' : ''}:`, ...lines.slice(-50).map((l) => `  ${l}`));
    } else {
      details.push(`(no log lines from ${problem.pod}${logs.exitCode ? `: ${stderrTail(logs.stderr, 1)}` : ''})`);
    }
  }
  const seconds = Math.round(timeoutMs / 1000);
  const what =
    e.reason === 'failed'
      ? `${culprits[0]} failed to start: ${e.detail}`
      : `${culprits.join(', ')} ${culprits.length === 1 ? 'was' : 'were'} not ready within ${seconds}s`;
  return new UserError({
    what,
    why: e.reason === 'failed' ? undefined : e.detail,
    details,
    next: nextStep(cx, stack, first?.component ?? culprits[0], first?.problem),
    exitCode: ExitCode.notReady,
    code: 'NOT_READY',
  });
}

export function nextStep(cx: KindContext, stack: Stack, name: ComponentName, problem: PodProblem | undefined): string {
  const c = stack.components.find((x) => x.name === name);
  const kc = kubectlHint(cx, c ? kubernetesNamespace(stack, c) : stack.profile.namespace);
  if (!problem) return `see why no pod was created: \`${kc} describe ${c?.workload.toLowerCase() ?? 'deployment'}/${name}\``;
  const describe = `\`${kc} describe pod ${problem.pod}\` shows the events`;
  const image = c?.image ?? problem.image ?? '<image>';
  if (/ImagePull|ErrImage|InvalidImageName/.test(problem.reason)) {
    if (c?.build) return `the image ${image} is built here and loaded with \`kind load docker-image ${image} --name ${cx.project}\`; run that, then \`mop-sandbox up\` again`;
    return loadHint(cx, image);
  }
  if (/Unschedulable|Insufficient/i.test(`${problem.reason} ${problem.message ?? ''}`)) {
    return `the kind node lacks memory or CPU for ${name}: give Docker more (Docker Desktop → Settings → Resources) or use \`--profile dev\`; ${describe}`;
  }
  if (problem.reason === 'OOMKilled') return `${name} ran out of memory (limit ${c?.resources.limits.memory ?? '?'}): give Docker more memory or use \`--profile dev\``;
  if (problem.reason === 'Init:wait-for-buckets') return `${name} is waiting for its buckets: \`mop-sandbox logs buckets\` and \`mop-sandbox logs store\` show why they are missing`;
  if (problem.reason === 'CrashLoopBackOff' || /^exited/.test(problem.reason)) {
    return `read the log lines above; \`mop-sandbox logs ${name}\` shows more and ${describe}; fix the cause and run \`mop-sandbox up\` again`;
  }
  return `it may only be slow (first image pulls happen inside the cluster): run \`mop-sandbox up\` again, it continues where it stopped; ${describe}`;
}

/** After Ctrl-C: remove what this `up` started (cluster creation half done, or the workloads), keep the data. */
export async function interrupted(cx: KindContext, stage: string, stack: Stack): Promise<UserError> {
  let why: string;
  try {
    if (stage === 'create') {
      await kind(cx, ['delete', 'cluster', '--name', cx.project, '--kubeconfig', cx.paths.kubeconfig], { allowFail: true, timeoutMs: CLEANUP_TIMEOUT_MS });
      why = `the half-created kind cluster ${cx.project} was deleted`;
    } else if (stage === 'apply' || stage === 'wait') {
      await deleteWorkloads(cx, kubernetesNamespaces(stack), { wait: false, timeoutMs: CLEANUP_TIMEOUT_MS, onlyTheirClusterObjects: true });
      why = `the workloads were removed; the kind cluster ${cx.project} and the data volumes were kept`;
    } else {
      why = stage === 'render' ? 'nothing was created' : `nothing was started; the kind cluster ${cx.project} was kept`;
    }
  } catch (e) {
    why = `cleaning up failed too (${(e as Error).message})`;
  }
  return new UserError({
    what: `interrupted during ${stage === 'render' ? 'preparation' : stage === 'create' ? 'cluster creation' : stage === 'images' ? 'the image build' : 'startup'}`,
    why,
    next: '`mop-sandbox up --runtime kind` starts again; `mop-sandbox down --purge` deletes the cluster and its data',
    exitCode: ExitCode.interrupted,
    code: 'INTERRUPTED',
  });
}
