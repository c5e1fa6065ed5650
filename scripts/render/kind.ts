/**
 * The kind cluster config: one control-plane node whose extraPortMappings carry every published port
 * from 127.0.0.1 (the model's bind address) on the host to a NodePort inside the node.
 */
import { images, imageRef } from '../stack/versions.js';
import { buildStack, type PublishedPort, type Stack } from '../stack/model.js';
import { GENERATED } from './common.js';
import { toYaml } from './yaml.js';

/** Where our NodePorts start. Kubernetes prefers the bottom of the range (30000-30085) for static
 * assignments and allocates random NodePorts from the rest first, so these never collide with others. */
export const NODE_PORT_BASE = 30000;
export const NODE_PORT_MAX = 32767;

const key = (p: Pick<PublishedPort, 'component' | 'name'>) => `${p.component}.${p.name}`;

/** Every port any variant of the stack can publish, in model order: the basis for stable NodePorts. */
function allPublishable(): string[] {
  return buildStack({ store: 'minio', demo: true, obi: true }).published.map(key);
}

/**
 * NodePort per published port ("grafana.http" -> 30007). Stable across profiles and stores, so switching
 * profile never needs a different cluster config.
 */
export function assignNodePorts(stack: Stack): Map<string, number> {
  const known = allPublishable();
  const out = new Map<string, number>();
  let extra = known.length;
  for (const p of stack.published) {
    const i = known.indexOf(key(p));
    out.set(key(p), NODE_PORT_BASE + (i >= 0 ? i : extra++));
  }
  return out;
}

export const nodePortKey = key;

export interface KindOptions {
  /** Cluster name (kind create cluster --name); default mop-sandbox. */
  name?: string;
  /** Node image; default the pin in versions.ts. */
  nodeImage?: string;
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
