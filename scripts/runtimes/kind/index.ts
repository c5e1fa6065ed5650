/**
 * The kind runtime: the stack in the profile's namespace of a local kind cluster (default name `mop-sandbox`,
 * `MOP_KIND_CLUSTER` overrides). Every program runs through Exec; every failure is a UserError saying what, why
 * and what next.
 *
 * Files, under <state dir>/kind/<cluster>/ (mode 0700): `kubeconfig` (our own: the user's ~/.kube/config and
 * current context are never touched; every kubectl call names `--kubeconfig` and `--context kind-<cluster>`),
 * `kind-cluster.yaml` and `manifests/` (the last render), `cluster.json` (the port mappings the cluster was created
 * with: kind fixes them at creation, so a later `up` that needs others must stop and say so).
 *
 *   up:    kind get clusters → [kind create cluster --config --kubeconfig --wait 60s | compare port mappings,
 *          kind export kubeconfig] → docker build + kind load docker-image (demo) → kubectl delete job (re-run the
 *          bucket job) → kubectl apply --server-side -f manifests/ → poll `kubectl get <workloads>,pods -o json`
 *          until every workload has rolled out, failing fast on crash loops and unpullable images.
 *   down:  delete workloads, Services, ConfigMaps, ServiceAccounts and RBAC by label; keep the Namespace, the
 *          Secret and the PersistentVolumeClaims (the data) and the cluster.
 *   purge: kind delete cluster, then remove this directory.
 */
import { mkdir } from 'node:fs/promises';
import { kindClusterConfig, renderKindConfig } from '../../render/kind.js';
import { kubernetesFiles, kubernetesObjects } from '../../render/kubernetes.js';
import { writeRender } from '../../render/write.js';
import type { ComponentName, Stack } from '../../stack/model.js';
import type { LogOptions, ReadyTimes, Runtime, UpContext } from '../runtime.js';
import { clusterExists, createKindContext, ensureKubeconfig, type KindContext, type KindDeps, kubectlHint, readRecord, writeRecord } from './context.js';
import { interrupted } from './diagnose.js';
import { buildAndLoad, loadHint, pullImages } from './images.js';
import { logs } from './logs.js';
import { preflight } from './preflight.js';
import { apply, checkPortMappings, checkStorage, checkVersionSkew, createCluster, engineInfo } from './start.js';
import { exists, keptData, status } from './status.js';
import { down } from './teardown.js';
import { waitReady } from './wait.js';


/** Runs `up`'s stages in order: render, create (or check the existing cluster), images, apply, wait. */
async function up(cx: KindContext, stack: Stack, ctx: UpContext): Promise<ReadyTimes> {
  const { out, signal } = ctx;
  const ns = stack.profile.namespace;
  let stage: 'render' | 'create' | 'images' | 'apply' | 'wait' = 'render';
  try {
    if (signal.aborted) throw signal.reason;
    await mkdir(cx.paths.dir, { recursive: true, mode: 0o700 });
    const existed = await clusterExists(cx, true);
    // A new cluster on a cgroup v1 engine gets the kubelet setting that lets Kubernetes >= 1.35 start there.
    const cgroupV1 = !existed && (await engineInfo(cx))?.cgroupVersion === '1';
    const config = kindClusterConfig(stack, { name: cx.project, cgroupV1 });
    const files = (imageIds: Record<string, string> = {}) => [
      { path: 'kind-cluster.yaml', content: renderKindConfig(stack, { name: cx.project, cgroupV1 }) },
      ...kubernetesFiles(stack, { credentials: ctx.credentials, sources: cx.sources, imageIds }),
    ];
    await writeRender(cx.paths.dir, files());
    const objects = kubernetesObjects(stack, { sources: cx.sources });

    if (existed) {
      await checkPortMappings(cx, stack, config);
      await ensureKubeconfig(cx, true);
      // Refuse a change Kubernetes would refuse halfway through the apply, before anything changes.
      await checkStorage(cx, stack, objects, signal);
      out.step(`kind cluster ${cx.project}`).ok('exists, reused');
    } else {
      stage = 'create';
      await createCluster(cx, config, stack, out, signal);
    }

    stage = 'images';
    const imageIds: Record<string, string> = {};
    for (const c of stack.components.filter((x) => x.build)) imageIds[c.name] = await buildAndLoad(cx, c, out, signal);
    if (Object.keys(imageIds).length) await writeRender(cx.paths.dir, files(imageIds));
    // Every other image is pulled into the node now, with progress, so the readiness deadline measures readiness only.
    await pullImages(cx, stack, objects, out, signal);
    await checkVersionSkew(cx, out, signal);

    stage = 'apply';
    const startedAt = cx.now();
    await apply(cx, ns, objects, existed, out, signal);
    const record = await readRecord(cx);
    if (record) await writeRecord(cx, { ...record, namespace: ns, profile: stack.profile.name });

    stage = 'wait';
    return await waitReady(cx, stack, objects, ctx, startedAt);
  } catch (e) {
    if (signal.aborted) throw await interrupted(cx, stage, stack);
    throw e;
  }
}

export function createKindRuntime(deps: KindDeps) {
  const cx = createKindContext(deps);
  return {
    name: 'kind' as const,
    /** Server-side apply is idempotent: a second `up` applies what a newer version or a config change brings. */
    reappliesWhenRunning: true,
    project: cx.project,
    paths: cx.paths,
    context: cx.context,
    kubectlHint: (namespace?: string) => kubectlHint(cx, namespace),
    loadHint: (image: string) => loadHint(cx, image),
    preflight: (stack: Stack) => preflight(cx, stack),
    exists: () => exists(cx),
    keptData: () => keptData(cx),
    up: (stack: Stack, ctx: UpContext) => up(cx, stack, ctx),
    status: (stack: Stack) => status(cx, stack),
    logs: (component: ComponentName | undefined, opts: LogOptions) => logs(cx, component, opts),
    down: (opts: { purge: boolean }) => down(cx, opts),
  } satisfies Runtime & Record<string, unknown>;
}

export type KindRuntime = ReturnType<typeof createKindRuntime>;
export type { KindDeps } from './context.js';
