/**
 * The Kubernetes renderer: plain manifests (no Helm, no CRDs) that `kubectl apply -f DIR` accepts.
 * Same short Service names as compose (`tempo`, `mimir`, ...) in the profile's namespace, the same config
 * files (as ConfigMaps), credentials from one Secret, and probes, resources and volumes from the model.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Job } from 'kubernetes-types/batch/v1.js';
import type {
  ConfigMap,
  Container,
  ContainerPort,
  EnvVar,
  Namespace,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PodSecurityContext,
  PodSpec,
  PodTemplateSpec,
  Probe,
  SecurityContext,
  Secret,
  Service,
  ServiceAccount,
  ServicePort,
  Volume,
  VolumeMount,
  VolumeProjection,
} from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { NetworkPolicy, NetworkPolicyIngressRule, NetworkPolicyPeer } from 'kubernetes-types/networking/v1.js';
import type { ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { Credentials } from '../lib/state.js';
import {
  COMPONENT_LABEL,
  envOn,
  kubernetesNamespace,
  NAMESPACE_LABEL,
  OWNER_LABEL,
  secretNames,
  userOn,
  type Component,
  type PublishedPort,
  type Stack,
} from '../stack/model.js';
import {
  configFilesFor,
  DASHBOARDS_TARGET,
  defaultSources,
  GENERATED,
  listDashboards,
  mountsDashboards,
  parseUser,
  readSource,
  SECRET_NAME,
  secretEnvName,
  type RenderFile,
  type SourceDirs,
} from './common.js';
import { assignNodePorts, nodePortKey } from './kind.js';
import { toYamlDocs } from './yaml.js';

export type KubeObject =
  | Namespace
  | ServiceAccount
  | ClusterRole
  | ClusterRoleBinding
  | Role
  | RoleBinding
  | NetworkPolicy
  | Secret
  | ConfigMap
  | PersistentVolumeClaim
  | Service
  | Deployment
  | StatefulSet
  | DaemonSet
  | Job;

export interface KubernetesOptions {
  /** When given, the `mop-credentials` Secret is rendered with these values (write that file 0600). */
  credentials?: Credentials;
  sources?: SourceDirs;
  /**
   * Image IDs of locally built images per component (`docker image inspect .Id`). Their tag never changes, so the
   * ID goes on the pod template: a rebuilt image changes the template and `kubectl apply` rolls it out.
   */
  imageIds?: Partial<Record<string, string>>;
}

/** Pod-template annotation holding a locally built image's ID. */
export const IMAGE_ID_ANNOTATION = 'mop-sandbox/image-id';

/** One manifest file: objects kubectl applies together. Files are numbered so the Namespace comes first. */
export interface ManifestGroup {
  file: string;
  objects: KubeObject[];
  /** Holds credentials: write with mode 0600. */
  sensitive?: boolean;
}

const PART_OF = OWNER_LABEL.value;
/** Client-side `kubectl apply` copies each object into an annotation limited to 256 KiB; stay well below. */
export const CONFIGMAP_BUDGET = 200 * 1024;
/** The API server's hard limit for a ConfigMap's data. */
export const CONFIGMAP_LIMIT = 1024 * 1024;

const labelsFor = (name: string): Record<string, string> => ({ [COMPONENT_LABEL]: name, [OWNER_LABEL.key]: PART_OF });
const meta = (name: string, namespace: string | undefined, component: string): ObjectMeta => ({
  name,
  ...(namespace ? { namespace } : {}),
  labels: labelsFor(component),
});

const checksum = (parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);

/** ConfigMap keys allow [-._a-zA-Z0-9]; subfolders come back through `items[].path`. */
const configMapKey = (rel: string) => rel.replace(/[^-._a-zA-Z0-9]/g, '_');

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function portName(c: Component, port: number): string | number {
  return c.ports.find((p) => p.port === port)?.name ?? port;
}

function probes(c: Component): Pick<Container, 'startupProbe' | 'readinessProbe' | 'livenessProbe'> {
  if (!c.readiness) return {};
  const httpGet = { path: c.readiness.path, port: portName(c, c.readiness.port) };
  const probe = (p: Omit<Probe, 'httpGet'>): Probe => ({ httpGet: { ...httpGet }, ...p });
  return {
    // Up to 5 minutes to start (first image start, ring joins); then ready checks every 5 s; liveness is lenient
    // because /ready answers 503 during transient ring changes, which is no reason to restart.
    startupProbe: probe({ periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 }),
    readinessProbe: probe({ periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3 }),
    livenessProbe: probe({ periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 8 }),
  };
}

function env(c: Component): EnvVar[] {
  return Object.entries(envOn(c, 'kind')).map(([name, v]) =>
    typeof v === 'string' ? { name, value: v } : { name, valueFrom: { secretKeyRef: { name: SECRET_NAME, key: secretEnvName(v.secret) } } },
  );
}

function storageSize(stack: Stack, c: Component): string {
  const size = stack.profile.storage[c.name];
  return size && size !== '0' ? size : '1Gi';
}

const claimSpec = (size: string): PersistentVolumeClaimSpec => ({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } });

/** How a component's data directory is backed on Kubernetes. */
function dataVolumeKind(c: Component): 'claimTemplate' | 'claim' | 'emptyDir' | 'none' {
  if (!c.dataDir) return 'none';
  if (c.workload === 'StatefulSet') return 'claimTemplate';
  // One replica: a PersistentVolumeClaim keeps data across restarts. Several replicas (Alloy) must not share
  // a write-ahead log, and DaemonSets/Jobs keep nothing: an emptyDir each.
  if (c.workload === 'Deployment' && c.replicas === 1) return 'claim';
  return 'emptyDir';
}

/** Headless Services named by a component's Kubernetes args (`--cluster.join-addresses=alloy-cluster:12345`). */
function peerServices(c: Component): { name: string; port: number }[] {
  const out: { name: string; port: number }[] = [];
  for (const a of c.runtimeArgs?.kind ?? []) {
    const m = /^--cluster\.join-addresses=(.+)$/.exec(a);
    if (!m) continue;
    for (const addr of m[1].split(',')) {
      const hp = /^([a-z0-9-]+):(\d+)$/.exec(addr.trim());
      if (hp && hp[1] !== c.name) out.push({ name: hp[1], port: Number(hp[2]) });
    }
  }
  return out;
}

interface BuildContext {
  stack: Stack;
  ns: string;
  sources: SourceDirs;
  nodePorts: Map<string, number>;
  dashboardMaps: { name: string; items: { key: string; path: string }[] }[];
  dashboardsChecksum: string;
  imageIds?: KubernetesOptions['imageIds'];
}

/**
 * What every container of an unprivileged component gets (Pod Security "restricted": no privilege escalation, no
 * capabilities). The root filesystem stays writable: Tempo, Loki and Grafana write outside their data directories.
 */
const containerSecurity: SecurityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

function podSecurity(c: Component): PodSecurityContext {
  const user = parseUser(userOn(c, 'kind'));
  return {
    runAsUser: user.uid,
    runAsGroup: user.gid,
    ...(user.uid !== 0 ? { runAsNonRoot: true, fsGroup: user.gid } : {}),
    // Privileged containers run unconfined whatever is set here; everything else gets the runtime's default filter.
    ...(c.privileged ? {} : { seccompProfile: { type: 'RuntimeDefault' } }),
  };
}

/** The S3 variables of a component's environment (the init container sees only the component's own key pair). */
const s3Env = (c: Component): EnvVar[] => env(c).filter((e) => e.name.startsWith('S3_') && e.name !== 'S3_URL');

/** Kubernetes has no depends_on; a component that needs its buckets waits for them in an init container. */
function waitForBuckets(c: Component, ctx: BuildContext): Container[] {
  const { stack } = ctx;
  const job = stack.components.find((x) => x.oneShot && c.dependsOn.some((d) => d.name === x.name && d.condition === 'completed'));
  if (!job) return [];
  const mine = stack.buckets.filter((b) => b.usedBy === c.name).map((b) => b.name);
  const names = mine.length ? mine : stack.buckets.map((b) => b.name);
  // S3_URL comes from the bucket job's environment: settings never become script text. The key pair is the
  // component's own (bucket-limited): --api S3v4 skips mc's signature probe, which lists buckets.
  const script = [
    `until mc alias set store "$S3_URL" "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" --api S3v4 >/dev/null 2>&1 && ${names
      .map((b) => `mc ls "store/${b}" >/dev/null 2>&1`)
      .join(' && ')}; do echo "waiting for bucket(s) ${names.join(' ')}"; sleep 2; done`,
    'echo "buckets ready"',
  ].join('; ');
  const user = parseUser(userOn(job, 'kind'));
  return [
    {
      name: 'wait-for-buckets',
      image: job.image,
      imagePullPolicy: 'IfNotPresent',
      command: ['/bin/sh', '-c'],
      args: [script],
      env: [...s3Env(c), ...env(job).filter((e) => e.name === 'S3_URL' || e.name === 'MC_CONFIG_DIR')],
      resources: { requests: { ...job.resources.requests }, limits: { ...job.resources.limits } },
      securityContext: { ...containerSecurity, runAsUser: user.uid, runAsGroup: user.gid, ...(user.uid !== 0 ? { runAsNonRoot: true } : {}) },
    },
  ];
}

function podTemplate(c: Component, ctx: BuildContext, configMapData: Record<string, string>): PodTemplateSpec {
  const volumes: Volume[] = [];
  const mounts: VolumeMount[] = [];
  const kindFiles = configFilesFor(c, 'kind');
  if (kindFiles.length) {
    volumes.push({ name: 'config', configMap: { name: `${c.name}-config` } });
    for (const f of kindFiles) mounts.push({ name: 'config', mountPath: f.target, subPath: basename(f.source), readOnly: true });
  }
  if (mountsDashboards(c)) {
    const sources: VolumeProjection[] = ctx.dashboardMaps.map((m) => ({ configMap: { name: m.name, items: m.items } }));
    volumes.push({ name: 'dashboards', projected: { sources } });
    mounts.push({ name: 'dashboards', mountPath: DASHBOARDS_TARGET, readOnly: true });
  }
  const data = dataVolumeKind(c);
  if (data === 'claim') volumes.push({ name: 'data', persistentVolumeClaim: { claimName: `${c.name}-data` } });
  if (data === 'emptyDir') volumes.push({ name: 'data', emptyDir: { sizeLimit: storageSize(ctx.stack, c) } });
  if (data !== 'none') mounts.push({ name: 'data', mountPath: c.dataDir! });

  const ports: ContainerPort[] = c.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: 'TCP' }));
  const container: Container = {
    name: c.name,
    image: c.image,
    // Pinned tags never change; the locally built demo image is loaded with `kind load docker-image`.
    imagePullPolicy: 'IfNotPresent',
    ...(c.entrypoint ? { command: c.entrypoint } : {}),
    ...(c.args.length || c.runtimeArgs?.kind?.length ? { args: [...c.args, ...(c.runtimeArgs?.kind ?? [])] } : {}),
    ...(ports.length ? { ports } : {}),
    ...(Object.keys(envOn(c, 'kind')).length ? { env: env(c) } : {}),
    resources: { requests: { ...c.resources.requests }, limits: { ...c.resources.limits } },
    ...probes(c),
    securityContext: c.privileged ? { privileged: true, appArmorProfile: { type: 'Unconfined' } } : containerSecurity,
    ...(mounts.length ? { volumeMounts: mounts } : {}),
  };
  const rbac = needsRbac(c);
  const init = waitForBuckets(c, ctx);
  const spec: PodSpec = {
    // A component with RBAC reads the API (Alloy: pod logs; OBI: metadata decoration), so only it gets a token.
    ...(rbac ? { serviceAccountName: c.name, automountServiceAccountToken: true } : { automountServiceAccountToken: false }),
    // Compose has no service-link variables (TEMPO_PORT=tcp://...); keep the environments identical.
    enableServiceLinks: false,
    ...(c.hostPid ? { hostPID: true } : {}),
    securityContext: podSecurity(c),
    ...(c.oneShot ? { restartPolicy: 'OnFailure' } : {}),
    ...(init.length ? { initContainers: init } : {}),
    containers: [container],
    ...(volumes.length ? { volumes } : {}),
  };
  const sums = Object.keys(configMapData).length || mountsDashboards(c);
  const imageId = c.build ? ctx.imageIds?.[c.name] : undefined;
  const annotations: Record<string, string> = {
    // Changing a config file changes this, so `kubectl apply` restarts the pods that read it.
    ...(sums ? { 'mop-sandbox/config-checksum': checksum([...Object.entries(configMapData).flat(), mountsDashboards(c) ? ctx.dashboardsChecksum : '']) } : {}),
    ...(imageId ? { [IMAGE_ID_ANNOTATION]: imageId } : {}),
  };
  return {
    metadata: {
      labels: labelsFor(c.name),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    spec,
  };
}

const needsRbac = (c: Component) => Boolean(c.collectsLogs || c.hostPid);

function rbacRules(c: Component): PolicyRule[] {
  const read = ['get', 'list', 'watch'];
  if (c.collectsLogs) {
    // discovery.kubernetes with role "pod" lists and watches pods; loki.source.kubernetes reads pods/log. Nothing else.
    return [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: read }];
  }
  // OBI's Kubernetes metadata decoration: list and watch pods, services, nodes and replicasets, nothing else
  // (opentelemetry.io content/en/docs/zero-code/obi/setup/kubernetes.md, "Configuring Kubernetes metadata decoration";
  // OBI's own test/integration/k8s/manifests/01-serviceaccount.yml grants the same).
  const watch = ['list', 'watch'];
  return [
    { apiGroups: [''], resources: ['pods', 'services', 'nodes'], verbs: watch },
    { apiGroups: ['apps'], resources: ['replicasets'], verbs: watch },
  ];
}

/**
 * Alloy collecting only its own namespace (the default) needs a namespaced Role; collecting every namespace, and OBI's
 * metadata decoration (pods on its node in any namespace), need a ClusterRole.
 */
const clusterWide = (stack: Stack, c: Component) => !c.collectsLogs || stack.collectAllLogs;

function rbacObjects(stack: Stack, ns: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const c of stack.components.filter(needsRbac)) {
    // The component's own namespace (OBI's is not the stack's); cluster-scoped objects still name the stack's.
    const own = kubernetesNamespace(stack, c);
    const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(c.name, own, c.name) };
    if (!clusterWide(stack, c)) {
      const role: Role = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: meta(c.name, own, c.name), rules: rbacRules(c) };
      const binding: RoleBinding = {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: meta(c.name, own, c.name),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: c.name },
        subjects: [{ kind: 'ServiceAccount', name: c.name, namespace: own }],
      };
      out.push(sa, role, binding);
      continue;
    }
    const clusterName = `${PART_OF}-${ns}-${c.name}`;
    // Cluster-scoped, so they name the namespace they serve: cleaning one namespace up must not take another's RBAC.
    const clusterMeta = () => {
      const m = meta(clusterName, undefined, c.name);
      return { ...m, labels: { ...m.labels, [NAMESPACE_LABEL]: ns } };
    };
    const role: ClusterRole = { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: clusterMeta(), rules: rbacRules(c) };
    const binding: ClusterRoleBinding = {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: clusterMeta(),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: clusterName },
      subjects: [{ kind: 'ServiceAccount', name: c.name, namespace: own }],
    };
    out.push(sa, role, binding);
  }
  return out;
}

/** Dashboards as ConfigMaps, split so each stays under CONFIGMAP_BUDGET (mounted together as one projected volume). */
function dashboardConfigMaps(ns: string, sources: SourceDirs): { maps: ConfigMap[]; refs: BuildContext['dashboardMaps']; sum: string } {
  const files = listDashboards(sources.dashboards).map((d) => ({ ...d, key: configMapKey(d.rel), text: readFileSync(d.abs, 'utf8') }));
  const keys = new Set<string>();
  for (const f of files) {
    if (keys.has(f.key)) throw new Error(`two dashboards map to the same ConfigMap key "${f.key}"; rename one of them`);
    keys.add(f.key);
    if (Buffer.byteLength(f.text) > CONFIGMAP_LIMIT - 1024) throw new Error(`dashboard ${f.rel} is larger than a ConfigMap can hold (1 MiB)`);
  }
  const chunks: (typeof files)[] = [[]];
  let size = 0;
  for (const f of files) {
    const cost = JSON.stringify(f.text).length + f.key.length + 8;
    if (size + cost > CONFIGMAP_BUDGET && chunks[chunks.length - 1].length) {
      chunks.push([]);
      size = 0;
    }
    chunks[chunks.length - 1].push(f);
    size += cost;
  }
  const maps: ConfigMap[] = [];
  const refs: BuildContext['dashboardMaps'] = [];
  chunks.forEach((chunk, i) => {
    const name = `grafana-dashboards-${i + 1}`;
    maps.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name, ns, 'grafana'), data: Object.fromEntries(chunk.map((f) => [f.key, f.text])) });
    refs.push({ name, items: chunk.map((f) => ({ key: f.key, path: f.rel })) });
  });
  return { maps, refs, sum: checksum(files.flatMap((f) => [f.rel, f.text])) };
}

/** The published ports a component's pods listen on, each with its port name on that component ("loki-http" on the gateway). */
function publishedBy(stack: Stack, c: Component): { port: PublishedPort; local: string }[] {
  return stack.published
    .filter((p) => p.publisher === c.name)
    .map((p) => ({ port: p, local: p.component === c.name ? p.name : c.ports.find((x) => x.port === p.containerPort)!.name }));
}

function services(c: Component, ctx: BuildContext): Service[] {
  const { ns, stack, nodePorts } = ctx;
  if (!c.ports.length || c.oneShot) return [];
  const selector = labelsFor(c.name);
  const all: ServicePort[] = c.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: 'TCP' }));
  const out: Service[] = [
    // The in-cluster name: the same short name as in compose, every port (gossip joins go through <name>-gossip).
    { apiVersion: 'v1', kind: 'Service', metadata: meta(c.name, ns, c.name), spec: { type: 'ClusterIP', selector, ports: all } },
  ];
  const published = publishedBy(stack, c);
  if (published.length) {
    // Only what compose publishes reaches the node (and, through kind's port mappings, 127.0.0.1 on the host); a
    // port the gateway fronts reaches the gateway's pods, under the NodePort of the component it fronts.
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(`${c.name}-nodeport`, ns, c.name),
      spec: {
        type: 'NodePort',
        selector,
        ports: published.map(({ port, local }) => ({ name: local, port: port.containerPort, targetPort: local, nodePort: nodePorts.get(nodePortKey(port))!, protocol: 'TCP' })),
      },
    });
  }
  const gossip = c.ports.find((p) => p.protocol === 'gossip');
  if (c.gossipService && gossip) {
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(c.gossipService, ns, c.name),
      // Headless (DNS lists every pod) and listing pods before they are ready: replicas that start together must
      // find each other to form one ring, and only a member of the ring becomes ready.
      spec: {
        clusterIP: 'None',
        publishNotReadyAddresses: true,
        selector,
        ports: [{ name: gossip.name, port: gossip.port, targetPort: gossip.name, protocol: 'TCP' }],
      },
    });
  }
  for (const peer of peerServices(c)) {
    const name = c.ports.find((p) => p.port === peer.port)?.name ?? 'peer';
    out.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(peer.name, ns, c.name),
      // Headless, and listing pods before they are ready: cluster peers must find each other to become ready.
      spec: { clusterIP: 'None', publishNotReadyAddresses: true, selector, ports: [{ name, port: peer.port, targetPort: name, protocol: 'TCP' }] },
    });
  }
  return out;
}

/**
 * One NetworkPolicy per component, from the model's `talksTo`: ingress only from the components that connect to it
 * (to the ports they use), from its own replicas (gossip, Alloy clustering), and to published ports from anywhere (the
 * NodePorts kind maps to 127.0.0.1 on the host). A component nobody connects to (the bucket job) gets no ingress.
 * Egress stays open: DNS and an external S3 endpoint are not pods of this namespace.
 */
function networkPolicy(c: Component, ctx: BuildContext): NetworkPolicy {
  const { stack, ns } = ctx;
  const ingress: NetworkPolicyIngressRule[] = [];
  const portRules = (names: string[]) => [...new Set(names)].map((name) => ({ protocol: 'TCP' as const, port: c.ports.find((p) => p.name === name)!.port }));
  const published = publishedBy(stack, c).map((p) => p.local);
  if (published.length) ingress.push({ ports: portRules(published) });
  const clients = new Map<string, string[]>();
  for (const other of stack.components) {
    if (other.name === c.name) continue;
    for (const ref of other.talksTo) if (ref.name === c.name && c.ports.some((p) => p.name === ref.port)) clients.set(other.name, [...(clients.get(other.name) ?? []), ref.port]);
  }
  for (const [client, ports] of [...clients].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // A client in another namespace (OBI) is named by its namespace too: a bare podSelector means this namespace only.
    const theirs = kubernetesNamespace(stack, stack.components.find((x) => x.name === client)!);
    const from: NetworkPolicyPeer[] = [
      {
        ...(theirs !== ns ? { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': theirs } } } : {}),
        podSelector: { matchLabels: labelsFor(client) },
      },
    ];
    ingress.push({ from, ports: portRules(ports) });
  }
  if (c.ports.length && (c.replicas > 1 || c.ports.some((p) => p.protocol === 'gossip') || peerServices(c).length)) {
    ingress.push({ from: [{ podSelector: { matchLabels: labelsFor(c.name) } }], ports: portRules(c.ports.map((p) => p.name)) });
  }
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: meta(c.name, ns, c.name),
    spec: { podSelector: { matchLabels: labelsFor(c.name) }, policyTypes: ['Ingress'], ...(ingress.length ? { ingress } : {}) },
  };
}

function workload(c: Component, ctx: BuildContext, configMapData: Record<string, string>): KubeObject {
  const { ns, stack } = ctx;
  const metadata = meta(c.name, ns, c.name);
  const template = podTemplate(c, ctx, configMapData);
  const selector = { matchLabels: labelsFor(c.name) };
  switch (c.workload) {
    case 'StatefulSet': {
      const sts: StatefulSet = {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata,
        spec: {
          // The governing Service: the headless one of ring or cluster members, so each pod gets a stable DNS name.
          serviceName: c.gossipService ?? peerServices(c)[0]?.name ?? c.name,
          replicas: c.replicas,
          // Rings (memberlist) need no ordered start; parallel start makes a cold `up` faster.
          podManagementPolicy: 'Parallel',
          selector,
          template,
          ...(c.dataDir
            ? { volumeClaimTemplates: [{ metadata: { name: 'data', labels: labelsFor(c.name) }, spec: claimSpec(storageSize(stack, c)) }] }
            : {}),
        },
      };
      return sts;
    }
    case 'Deployment': {
      const dep: Deployment = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: {
          replicas: c.replicas,
          // A ReadWriteOnce volume (and Grafana's SQLite) must not be shared by an old and a new pod.
          ...(dataVolumeKind(c) === 'claim' ? { strategy: { type: 'Recreate' } } : {}),
          selector,
          template,
        },
      };
      return dep;
    }
    case 'DaemonSet': {
      const ds: DaemonSet = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata, spec: { selector, template } };
      return ds;
    }
    case 'Job': {
      const job: Job = { apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { backoffLimit: 20, template } };
      return job;
    }
  }
}

/** Every manifest, grouped into the files `render` writes (numbered: kubectl applies a directory in name order). */
export function kubernetesManifests(stack: Stack, opts: KubernetesOptions = {}): ManifestGroup[] {
  const ns = stack.profile.namespace;
  const sources = opts.sources ?? defaultSources();
  const groups: ManifestGroup[] = [];
  // The stack's namespace enforces Pod Security "restricted" (non-root, no capabilities, seccomp); a component that
  // needs host privileges (OBI) gets a namespace of its own at "privileged", labelled with the stack's namespace
  // so that `down` and prune find it.
  const namespaceObject = (name: string, level: 'restricted' | 'privileged'): Namespace => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels: { [OWNER_LABEL.key]: PART_OF, ...(name !== ns ? { [NAMESPACE_LABEL]: ns } : {}), 'pod-security.kubernetes.io/enforce': level },
    },
  });
  const own = stack.components.filter((c) => kubernetesNamespace(stack, c) !== ns);
  groups.push({ file: '00-namespace.yaml', objects: [namespaceObject(ns, 'restricted'), ...own.map((c) => namespaceObject(kubernetesNamespace(stack, c), 'privileged'))] });
  const rbac = rbacObjects(stack, ns);
  if (rbac.length) groups.push({ file: '01-rbac.yaml', objects: rbac });
  if (opts.credentials) {
    const secret: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(SECRET_NAME, ns, PART_OF),
      type: 'Opaque',
      stringData: Object.fromEntries(secretNames.map((n) => [secretEnvName(n), opts.credentials![n]])),
    };
    groups.push({ file: '02-secret.yaml', objects: [secret], sensitive: true });
  }
  const ctx: BuildContext = { stack, ns, sources, nodePorts: assignNodePorts(stack), dashboardMaps: [], dashboardsChecksum: '', imageIds: opts.imageIds };
  if (stack.components.some(mountsDashboards)) {
    const d = dashboardConfigMaps(ns, sources);
    ctx.dashboardMaps = d.refs;
    ctx.dashboardsChecksum = d.sum;
    groups.push({ file: '03-dashboards.yaml', objects: d.maps });
  }
  stack.components.forEach((c, i) => {
    const objects: KubeObject[] = [];
    const cns = kubernetesNamespace(stack, c);
    if (cns !== ns && (Object.values(envOn(c, 'kind')).some((v) => typeof v !== 'string') || mountsDashboards(c) || c.dependsOn.some((d) => d.condition === 'completed'))) {
      // The Secret, the dashboards and the bucket job live in the stack's namespace only.
      throw new Error(`${c.name} runs in its own namespace ${cns} but needs the stack's credentials, dashboards or buckets`);
    }
    const cctx: BuildContext = { ...ctx, ns: cns };
    const files = configFilesFor(c, 'kind');
    const data: Record<string, string> = {};
    for (const f of files) {
      const key = basename(f.source);
      if (key in data) throw new Error(`${c.name}: two config files share the name ${key}; ConfigMap keys are file names`);
      data[key] = readSource(f, sources, c.name);
    }
    if (files.length) objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(`${c.name}-config`, cns, c.name), data } satisfies ConfigMap);
    if (dataVolumeKind(c) === 'claim') {
      objects.push({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(`${c.name}-data`, cns, c.name), spec: claimSpec(storageSize(stack, c)) } satisfies PersistentVolumeClaim);
    }
    objects.push(...services(c, cctx));
    objects.push(networkPolicy(c, cctx));
    objects.push(workload(c, cctx, data));
    groups.push({ file: `${String(10 + i).padStart(2, '0')}-${c.name}.yaml`, objects });
  });
  return groups;
}

export function kubernetesObjects(stack: Stack, opts: KubernetesOptions = {}): KubeObject[] {
  return kubernetesManifests(stack, opts).flatMap((g) => g.objects);
}

export function renderManifest(group: ManifestGroup, stack: Stack): string {
  return toYamlDocs(group.objects, [`${GENERATED}.`, `Profile: ${stack.profile.name}, namespace: ${stack.profile.namespace}.`]);
}

/** The manifests as files under `manifests/`. */
export function kubernetesFiles(stack: Stack, opts: KubernetesOptions = {}): RenderFile[] {
  return kubernetesManifests(stack, opts).map((g) => ({
    path: `manifests/${g.file}`,
    content: renderManifest(g, stack),
    ...(g.sensitive ? { mode: 0o600 } : {}),
  }));
}
