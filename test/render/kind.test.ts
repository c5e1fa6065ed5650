import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assignNodePorts, kindClusterConfig, NODE_PORT_BASE, NODE_PORT_MAX, NODE_PORTS, nodePortKey, renderKindConfig } from '../../scripts/render/kind.js';
import { kubernetesObjects } from '../../scripts/render/kubernetes.js';
import { buildStack } from '../../scripts/stack/model.js';
import { images } from '../../scripts/stack/versions.js';
import { label, stackOf, variants } from './helpers.js';

describe('kind cluster config', () => {
  it.each(variants.map((o) => [label(o), o] as const))('binds the API server and every host port to 127.0.0.1 and maps each published port (%s)', (_, opts) => {
    const stack = stackOf(opts);
    const cfg = parse(renderKindConfig(stack));
    expect(cfg).toEqual(kindClusterConfig(stack));
    expect(cfg).toMatchObject({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4', networking: { apiServerAddress: '127.0.0.1' } });
    expect(cfg.nodes).toHaveLength(1);
    const maps = cfg.nodes[0].extraPortMappings;
    expect(maps).toHaveLength(stack.published.length);
    for (const m of maps) expect(m).toMatchObject({ listenAddress: '127.0.0.1', protocol: 'TCP' });
    const nodePorts = maps.map((m: any) => m.containerPort);
    expect(new Set(nodePorts).size).toBe(nodePorts.length);
    for (const n of nodePorts) expect(n >= NODE_PORT_BASE && n <= NODE_PORT_MAX).toBe(true);
    // Kubernetes reserves the bottom band of the range for static NodePorts: stay in it.
    for (const n of nodePorts) expect(n).toBeLessThanOrEqual(NODE_PORT_BASE + 85);
    for (const p of stack.published) expect(maps).toContainEqual(expect.objectContaining({ hostPort: p.hostPort, listenAddress: p.hostIp }));

    // Each mapping lands on a NodePort Service port of the component that publishes it (the gateway for the ports it fronts).
    const services = kubernetesObjects(stack).filter((o) => o.kind === 'Service' && (o as any).spec.type === 'NodePort') as any[];
    const byNodePort = new Map<number, { svc: any; port: any }>(services.flatMap((s) => s.spec.ports.map((p: any) => [p.nodePort, { svc: s, port: p }])));
    expect(byNodePort.size).toBe(stack.published.length);
    for (const p of stack.published) {
      const m = maps.find((x: any) => x.hostPort === p.hostPort);
      const target = byNodePort.get(m.containerPort)!;
      expect(target.svc.spec.selector['app.kubernetes.io/name']).toBe(p.publisher);
      expect(target.port.port).toBe(p.containerPort);
    }
  });

  it('keeps NodePorts stable across profiles and stores, so a profile switch needs no new cluster', () => {
    const base = assignNodePorts(buildStack({ obi: true }));
    for (const opts of variants) {
      for (const [k, v] of assignNodePorts(stackOf(opts))) expect(v, k).toBe(base.get(k));
    }
    expect(base.get(nodePortKey({ component: 'grafana', name: 'http' }))).toBeDefined();
  });

  it('takes NodePorts from one fixed table: every publishable port has its own, whatever the model order', () => {
    const keys = new Set(variants.flatMap((o) => stackOf(o).published.map(nodePortKey)));
    for (const k of keys) expect(NODE_PORTS[k], k).toBeDefined();
    expect(new Set(Object.values(NODE_PORTS)).size).toBe(Object.keys(NODE_PORTS).length);
    // The same stack with its published ports in reverse order gets the same NodePorts.
    const stack = buildStack({ obi: true });
    const reversed = { ...stack, published: [...stack.published].reverse() };
    expect(Object.fromEntries(assignNodePorts(reversed))).toEqual(Object.fromEntries(assignNodePorts(stack)));
    // A port the table does not know is an error that says where to add it, not a silently shifted number.
    const unknown = { ...stack, published: [...stack.published, { ...stack.published[0], component: 'grafana' as const, name: 'extra' }] };
    expect(() => assignNodePorts(unknown)).toThrow(/no NodePort for grafana\.extra: add it to NODE_PORTS/);
  });

  it('on a cgroup v1 engine, patches the kubelet config so Kubernetes >= 1.35 starts (and only then)', () => {
    const stack = buildStack();
    expect(kindClusterConfig(stack).kubeadmConfigPatches).toBeUndefined();
    const cfg = parse(renderKindConfig(stack, { cgroupV1: true }));
    expect(cfg.kubeadmConfigPatches).toHaveLength(1);
    expect(parse(cfg.kubeadmConfigPatches[0])).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', failCgroupV1: false });
  });

  it('follows moved host ports and bind address; node image pinned with a digest', () => {
    const stack = buildStack({ hostPorts: { 'grafana.http': 3001 }, bindAddress: '127.0.0.2' });
    const cfg = kindClusterConfig(stack);
    expect(cfg.nodes[0].extraPortMappings).toContainEqual(expect.objectContaining({ hostPort: 3001, listenAddress: '127.0.0.2' }));
    expect(cfg.nodes[0].image).toBe(`kindest/node:${images.kindNode.tag}@${images.kindNode.digest}`);
    expect(cfg.nodes[0].image).toMatch(/^kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(kindClusterConfig(stack, { name: 'other', nodeImage: 'x/y:1' })).toMatchObject({ name: 'other', nodes: [{ image: 'x/y:1' }] });
  });
});
