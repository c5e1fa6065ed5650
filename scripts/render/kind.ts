/**
 * The kind cluster config: one control-plane node whose extraPortMappings carry every published port
 * from 127.0.0.1 (the model's bind address) on the host to a NodePort inside the node.
 */
import { images, imageRef } from '../stack/versions.js';
import { type PublishedPort, type Stack } from '../stack/model.js';
import { GENERATED } from './common.js';
import { toYaml } from './yaml.js';

/** Where our NodePorts start. Kubernetes prefers the bottom of the range (30000-30085) for static
 * assignments and allocates random NodePorts from the rest first, so these never collide with others. */
export const NODE_PORT_BASE = 30000;
export const NODE_PORT_MAX = 32767;

const key = (p: Pick<PublishedPort, 'component' | 'name'>) => `${p.component}.${p.name}`;

/**
 * The NodePort of every port the stack can publish, fixed here and never reordered: a kind cluster's port mappings
 * are fixed at creation, so a NodePort that moved would force a purge (and the data with it). A new published port
 * takes the next free number; a test checks every publishable port has one and none repeats.
 */
export const NODE_PORTS: Readonly<Record<string, number>> = {
  'store.s3': 30000,
  'store.console': 30001,
  'tempo.http': 30002,
  'mimir.http': 30003,
  'loki.http': 30004,
  'alloy.otlp-grpc': 30005,
  'alloy.otlp-http': 30006,
  'alloy.http': 30007,
  'grafana.http': 30008,
  'demo.http': 30009,
  'demo.control': 30010,
};

/** NodePort per published port ("grafana.http" -> 30008), from NODE_PORTS: the same whatever the model order or profile. */
export function assignNodePorts(stack: Stack): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of stack.published) {
    const port = NODE_PORTS[key(p)];
    if (port === undefined) throw new Error(`no NodePort for ${key(p)}: add it to NODE_PORTS in scripts/render/kind.ts (the next free number)`);
    out.set(key(p), port);
  }
  return out;
}

export const nodePortKey = key;

/**
 * Kubernetes ≥ 1.35's kubelet refuses a cgroup v1 host unless its configuration says otherwise (KEP-5573,
 * FailCgroupV1 on by default); kind nodes share the host's hierarchy and kind's kubelet template does not set it.
 * kind applies a patch to the kubeadm config document of the same kind and apiVersion.
 */
export const CGROUP_V1_KUBELET_PATCH = 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfailCgroupV1: false\n';

export interface KindOptions {
  /** Cluster name (kind create cluster --name); default mop-sandbox. */
  name?: string;
  /** Node image; default the pin in versions.ts. */
  nodeImage?: string;
  /** The Docker engine runs on cgroup v1: let the kubelet start anyway (CGROUP_V1_KUBELET_PATCH). */
  cgroupV1?: boolean;
}

export interface KindPortMapping {
  containerPort: number;
  hostPort: number;
  listenAddress: string;
  protocol: 'TCP';
}

export interface KindCluster {
  kind: 'Cluster';
  apiVersion: 'kind.x-k8s.io/v1alpha4';
  name: string;
  networking: { apiServerAddress: string };
  kubeadmConfigPatches?: string[];
  nodes: { role: 'control-plane'; image: string; extraPortMappings: KindPortMapping[] }[];
}

export function kindClusterConfig(stack: Stack, opts: KindOptions = {}): KindCluster {
  const nodePorts = assignNodePorts(stack);
  return {
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: opts.name ?? 'mop-sandbox',
    // The API server listens on loopback only (kind's default, stated so nobody has to look it up).
    networking: { apiServerAddress: '127.0.0.1' },
    ...(opts.cgroupV1 ? { kubeadmConfigPatches: [CGROUP_V1_KUBELET_PATCH] } : {}),
    nodes: [
      {
        role: 'control-plane',
        image: opts.nodeImage ?? imageRef(images.kindNode),
        extraPortMappings: stack.published.map((p) => ({
          containerPort: nodePorts.get(key(p))!,
          hostPort: p.hostPort,
          listenAddress: p.hostIp,
          protocol: 'TCP' as const,
        })),
      },
    ],
  };
}

export function renderKindConfig(stack: Stack, opts: KindOptions = {}): string {
  const cfg = kindClusterConfig(stack, opts);
  const nodePorts = assignNodePorts(stack);
  const lines = [
    `${GENERATED}.`,
    `Profile: ${stack.profile.name}. Create the cluster: kind create cluster --config kind-cluster.yaml`,
    'Each mapping: host port on ' + stack.bindAddress + ' -> NodePort of the matching <component>-nodeport Service.',
    ...stack.published.map((p) => `  ${p.hostIp}:${p.hostPort} -> ${key(p)} (NodePort ${nodePorts.get(key(p))})`),
  ];
  return toYaml(cfg, lines);
}
