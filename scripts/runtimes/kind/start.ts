/**
 * The start stage of the kind runtime: create the cluster (or check the existing one still fits: port mappings,
 * data volume sizes, kubectl's version skew), then apply the manifests server-side and prune what the render dropped.
 */
import type { Engine } from '../../lib/docker.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import { CommandFailed } from '../../lib/exec.js';
import type { Output } from '../../lib/output.js';
import { assignNodePorts, type KindCluster, nodePortKey } from '../../render/kind.js';
import type { KubeObject } from '../../render/kubernetes.js';
import { type ComponentName, NAMESPACE_LABEL, type Stack } from '../../stack/model.js';
import { checkDocker } from '../preflight.js';
import { staleObjects, storageConflicts } from './cluster-diff.js';
import { explain, kind, type KindContext, kubectl, kubectlHint, ownedNamespaces, parseList, readRecord, run, writeRecord } from './context.js';
import { NAME_LABEL, PART_OF_LABEL, type WorkloadKind, workloadKinds } from './kube-state.js';
import { kubectlVersion } from './preflight.js';
import { DOWN_CLUSTER_SCOPED, DOWN_NAMESPACED } from './teardown.js';

export const mappingKey = (m: { listenAddress?: string; hostPort?: number | string; containerPort: number | string; protocol?: string }) =>
  `${m.listenAddress || '0.0.0.0'}:${m.hostPort}->${m.containerPort}/${(m.protocol ?? 'tcp').toLowerCase()}`;

/** The port mappings a kind config asks for, in the form compared across runs. */
export function configMappings(config: KindCluster): string[] {
  return config.nodes.flatMap((n) => n.extraPortMappings.map(mappingKey)).sort();
}

/** `docker inspect` PortBindings of a kind node → the same form (the API server's 6443 is kind's own). */
export function bindingsToMappings(bindings: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null): string[] {
  const out: string[] = [];
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const [port, proto = 'tcp'] = key.split('/');
    if (port === '6443') continue;
    for (const b of list ?? []) out.push(mappingKey({ listenAddress: b.HostIp, hostPort: b.HostPort, containerPort: port, protocol: proto }));
  }
  return out.sort();
}

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
  component: ComponentName;
}

/** The workloads of a render, in stack order. */
export function workloadsOf(objects: KubeObject[]): WorkloadRef[] {
  return objects
    .filter((o) => workloadKinds.includes(o.kind as WorkloadKind))
    .map((o) => ({
      kind: o.kind as WorkloadKind,
      name: o.metadata!.name!,
      component: (o.metadata?.labels?.[NAME_LABEL] ?? o.metadata!.name!) as ComponentName,
    }));
}

/** The engine preflight found, or a fresh look when `up` runs without preflight. */
export async function engineInfo(cx: KindContext): Promise<Engine | undefined> {
  cx.engine ??= (await checkDocker({ exec: cx.exec, env: cx.env, platform: cx.platform, docker: cx.docker })).engine;
  return cx.engine;
}

export async function checkPortMappings(cx: KindContext, stack: Stack, config: KindCluster): Promise<void> {
  const want = configMappings(config);
  const record = await readRecord(cx);
  let have = record?.portMappings;
  let source = `recorded in ${cx.paths.record} when the cluster was created`;
  if (!have) {
    // No record (state dir cleaned, or the cluster was made by hand): ask Docker what the node publishes.
    const r = await run(cx, 'docker', ['inspect', '--format', '{{json .HostConfig.PortBindings}}', `${cx.project}-control-plane`], { allowFail: true });
    if (r.exitCode === 0) {
      try {
        have = bindingsToMappings(JSON.parse(r.stdout));
        source = `published by the node container ${cx.project}-control-plane`;
        // Remember them, so later runs compare without asking Docker (and `logs` knows the namespace).
        await writeRecord(cx, { cluster: cx.project, createdAt: 'unknown (found existing)', portMappings: have });
      } catch {
        /* unreadable: nothing to compare */
      }
    }
  }
  if (!have) {
    cx.log(`could not tell which ports the kind cluster ${cx.project} maps; if a URL does not answer, run \`mop-sandbox down --purge\` and \`up\` again`);
    return;
  }
  // Extra mappings on the cluster are harmless (nothing listens behind them); a missing one is a dead URL.
  const missing = want.filter((m) => !have!.includes(m));
  if (!missing.length) return;
  const nodePorts = assignNodePorts(stack);
  const describe = (m: string) => {
    const p = stack.published.find((x) => m === mappingKey({ listenAddress: x.hostIp, hostPort: x.hostPort, containerPort: nodePorts.get(nodePortKey(x))!, protocol: 'tcp' }));
    return p ? `${p.component}.${p.name} on ${p.hostIp}:${p.hostPort}` : m;
  };
  throw new UserError({
    what: `the kind cluster ${cx.project} was created with other port mappings than this stack needs`,
    why: `kind fixes a cluster's port mappings (extraPortMappings) when it creates it and cannot change them later; not mapped: ${missing.map(describe).join(', ')}`,
    details: [`the cluster maps (${source}):`, ...have.map((m) => `  ${m}`)],
    next:
      'run `mop-sandbox down --purge` (this deletes the cluster and the data in it), then `mop-sandbox up --runtime kind` again; ' +
      'or go back to the ports the cluster was created with',
    exitCode: ExitCode.preflight,
    code: 'KIND_PORTS_CHANGED',
  });
}

/** Data claims this render would resize: Kubernetes refuses that (immutable claim templates, no expansion on kind). */
export async function checkStorage(cx: KindContext, stack: Stack, objects: KubeObject[], signal: AbortSignal): Promise<void> {
  const ns = stack.profile.namespace;
  const r = await kubectl(cx, ['get', 'statefulsets,persistentvolumeclaims', '-n', ns, '-l', PART_OF_LABEL, '-o', 'json'], { allowFail: true, signal });
  if (r.exitCode !== 0) return; // nothing of ours there yet (or the API is slow: apply will say)
  const conflicts = storageConflicts(parseList(r.stdout), objects);
  if (!conflicts.length) return;
  const before = (await readRecord(cx))?.profile;
  throw new UserError({
    what: `the namespace ${ns} holds data volumes of other sizes than the ${stack.profile.name} profile asks for${before && before !== stack.profile.name ? ` (made by the ${before} profile)` : ''}`,
    why: "Kubernetes cannot change them in place: a StatefulSet's volume claim templates are immutable and kind's `standard` StorageClass does not allow resizing; nothing was changed",
    details: conflicts,
    next:
      `keep the profile the data was made with${before && before !== stack.profile.name ? ` (\`mop-sandbox up --profile ${before}\`)` : ''}, ` +
      `or start over: \`mop-sandbox down --purge\` deletes the kind cluster and its data, then \`mop-sandbox up --runtime kind --profile ${stack.profile.name}\``,
    exitCode: ExitCode.preflight,
    code: 'PROFILE_SWITCH_REFUSED',
  });
}

/** kubectl supports one minor version of skew either way; warn beyond that (commands may misbehave). */
export async function checkVersionSkew(cx: KindContext, out: Output, signal: AbortSignal): Promise<void> {
  const r = await kubectl(cx, ['version', '-o', 'json'], { allowFail: true, signal, timeoutMs: 15_000 });
  const minor = (v: string | undefined) => Number(/^v?\d+\.(\d+)/.exec(v ?? '')?.[1]);
  const client = kubectlVersion(r.stdout, 'client');
  const server = kubectlVersion(r.stdout, 'server');
  const skew = Math.abs(minor(client) - minor(server));
  if (Number.isFinite(skew) && skew > 1) {
    out.warn(
      `kubectl ${client} is ${skew} minor versions away from the cluster's ${server}; kubectl supports ±1 ` +
        `(https://kubernetes.io/releases/version-skew-policy/#kubectl): if a command misbehaves, install a kubectl within one minor version of ${server}`,
    );
  }
}

export async function createCluster(cx: KindContext, config: KindCluster, stack: Stack, out: Output, signal: AbortSignal): Promise<void> {
  const step = out.step(`kind cluster ${cx.project} (creating; about a minute, several on the first run while it pulls the node image)`);
  try {
    await kind(cx, 
      ['create', 'cluster', '--name', cx.project, '--config', cx.paths.clusterConfig, '--kubeconfig', cx.paths.kubeconfig, '--wait', '60s'],
      { signal },
    );
  } catch (e) {
    step.fail();
    if (signal.aborted) throw e;
    throw explain(
      e,
      `kind could not create the cluster ${cx.project}`,
      `check that Docker runs and has disk space (\`docker info\`, \`docker system df\`); the config is ${cx.paths.clusterConfig}. ` +
        'Then run `mop-sandbox up --runtime kind` again (`mop-sandbox down --purge` removes a half-made cluster)',
      'KIND_CREATE_FAILED',
    );
  }
  await writeRecord(cx, { cluster: cx.project, createdAt: new Date(cx.now()).toISOString(), portMappings: configMappings(config), profile: stack.profile.name });
  step.ok();
}

export async function apply(cx: KindContext, ns: string, objects: KubeObject[], existed: boolean, out: Output, signal: AbortSignal): Promise<void> {
  const step = out.step(`apply manifests (namespace ${ns})`);
  try {
    if (existed) {
      // A Job's pod template cannot change, and the bucket job must run again on every `up` (it is idempotent).
      const jobs = workloadsOf(objects).filter((w) => w.kind === 'Job').map((w) => `job/${w.name}`);
      if (jobs.length) await kubectl(cx, ['delete', '-n', ns, ...jobs, '--ignore-not-found'], { signal });
      await pruneStale(cx, ns, objects, out, signal);
    }
    // Server-side: no last-applied annotation, so large dashboard ConfigMaps fit; files apply in name order
    // (00-namespace.yaml first).
    await kubectl(cx, ['apply', '--server-side', '--force-conflicts', '--field-manager=mop-sandbox', '-f', cx.paths.manifests], { signal });
  } catch (e) {
    step.fail();
    if (signal.aborted) throw e;
    const portTaken = e instanceof CommandFailed && /port is already allocated/i.test(e.stderr);
    throw explain(
      e,
      `kubectl could not apply the manifests to the kind cluster ${cx.project}`,
      portTaken
        ? 'another namespace (another profile) still holds the NodePorts: run `mop-sandbox down` first (data is kept), then `up` again'
        : e instanceof CommandFailed && /Forbidden|field is immutable/i.test(e.stderr)
          ? `the cluster refuses to change an object in place (see the line above); \`mop-sandbox down\` removes the workloads and keeps the data, \`mop-sandbox down --purge\` starts over without it`
          : `the manifests are in ${cx.paths.manifests}; check them with \`${kubectlHint(cx)} apply --server-side --dry-run=server -f ${cx.paths.manifests}\``,
      'APPLY_FAILED',
    );
  }
  step.ok();
}

/**
 * Deletes our objects the render no longer has (a component turned off, an object an older version made):
 * namespaced ones in `ns`, and cluster-scoped ones labelled for `ns`. Data claims, the Secret and the Namespace stay.
 */
export async function pruneStale(cx: KindContext, ns: string, objects: KubeObject[], out: Output, signal: AbortSignal): Promise<void> {
  const get = async (args: string[]) => {
    const r = await kubectl(cx, ['get', ...args, '-o', 'json'], { allowFail: true, signal });
    return r.exitCode === 0 ? parseList(r.stdout) : {};
  };
  const inNamespace = (n: string) => objects.filter((o) => o.kind === 'Namespace' || (o.metadata?.namespace ?? ns) === n);
  const stale = [
    ...staleObjects(await get([DOWN_NAMESPACED.join(','), '-n', ns, '-l', PART_OF_LABEL]), inNamespace(ns)),
    ...staleObjects(await get([DOWN_CLUSTER_SCOPED.join(','), '-l', `${PART_OF_LABEL},${NAMESPACE_LABEL}=${ns}`]), objects),
  ];
  const removed: string[] = [];
  if (stale.length) {
    await kubectl(cx, ['delete', '-n', ns, ...stale, '--ignore-not-found', '--wait=false'], { signal });
    removed.push(...stale);
  }
  // A component's own namespace (OBI's): pruned like the stack's while the component is on, deleted whole (it holds
  // no data) once it is off, so no privileged pod outlives its setting.
  const rendered = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name));
  for (const owned of await ownedNamespaces(cx, ns, signal)) {
    if (!rendered.has(owned)) {
      await kubectl(cx, ['delete', 'namespace', owned, '--ignore-not-found', '--wait=false'], { signal });
      removed.push(`namespace/${owned}`);
      continue;
    }
    const theirs = staleObjects(await get([DOWN_NAMESPACED.join(','), '-n', owned, '-l', PART_OF_LABEL]), inNamespace(owned));
    if (!theirs.length) continue;
    await kubectl(cx, ['delete', '-n', owned, ...theirs, '--ignore-not-found', '--wait=false'], { signal });
    removed.push(...theirs.map((x) => `${x} (${owned})`));
  }
  if (removed.length) out.info(`removed what is no longer part of the stack: ${removed.join(', ')}`);
}
