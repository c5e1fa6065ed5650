import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { configDir } from '../../scripts/lib/paths.js';
import { secretEnvName, SECRET_NAME } from '../../scripts/render/common.js';
import { CONFIGMAP_BUDGET, kubernetesFiles, kubernetesManifests, kubernetesObjects, type KubeObject } from '../../scripts/render/kubernetes.js';
import { toYamlDocs } from '../../scripts/render/yaml.js';
import { buildStack, secretNames } from '../../scripts/stack/model.js';
import { dns1123Label, dns1123Subdomain, fakeCredentials, label, modelError, stackOf, tempDir, unknownFields, variants } from './helpers.js';

const all = (o: Parameters<typeof stackOf>[0]) => kubernetesObjects(stackOf(o), { credentials: fakeCredentials });
const byKind = <K extends string>(objs: KubeObject[], kind: K) => objs.filter((o) => o.kind === kind) as any[];
const find = (objs: KubeObject[], kind: string, name: string) => objs.find((o) => o.kind === kind && o.metadata?.name === name) as any;
const podSpecs = (objs: KubeObject[]) =>
  objs.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet', 'Job'].includes(o.kind!)).map((o: any) => ({ obj: o, spec: o.spec.template.spec }));

describe('Kubernetes renderer', () => {
  it.each(variants.map((o) => [label(o), o] as const))('every object passes kubernetes-models and has no unknown field (%s)', (_, opts) => {
    const stack = stackOf(opts);
    const files = kubernetesFiles(stack, { credentials: fakeCredentials });
    for (const f of files) {
      const text = String(f.content);
      expect(unknownFields(text), f.path).toEqual([]);
      for (const doc of parseAllDocuments(text)) {
        const obj = doc.toJS();
        expect(modelError(obj), `${f.path}: ${obj.kind}/${obj.metadata?.name}`).toBeUndefined();
      }
    }
  });

  it('the unknown-field check catches a typo', () => {
    const [dep] = byKind(kubernetesObjects(buildStack()), 'Deployment');
    dep.spec.replicaz = 2;
    dep.spec.template.spec.containers[0].imagePullPolicyy = 'Always';
    const text = kubernetesFiles(buildStack()).map((f) => String(f.content)).join('---\n');
    expect(unknownFields(text)).toEqual([]);
    expect(unknownFields(toYamlDocs([dep])).sort()).toEqual([
      `Deployment/${dep.metadata.name}: /spec/replicaz`,
      `Deployment/${dep.metadata.name}: /spec/template/spec/containers/0/imagePullPolicyy`,
    ]);
  });

  it.each(variants.map((o) => [label(o), o] as const))('names, labels and references are consistent (%s)', (_, opts) => {
    const stack = stackOf(opts);
    const objs = all(opts);
    const ns = stack.profile.namespace;
    for (const o of objs) {
      const name = o.metadata!.name!;
      expect(name).toMatch(['ConfigMap', 'Secret', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind!) ? dns1123Subdomain : dns1123Label);
      expect(o.metadata!.labels!['app.kubernetes.io/part-of']).toBe('mop-sandbox');
      // Everything in the stack's namespace but OBI's objects, which live in OBI's own.
      const own = name === 'obi' || name === 'obi-config' ? `${ns}-obi` : ns;
      if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind!)) expect(o.metadata!.namespace, `${o.kind}/${name}`).toBe(own);
    }
    expect(objs[0]).toMatchObject({ kind: 'Namespace', metadata: { name: ns } });
    const configMaps = new Map(byKind(objs, 'ConfigMap').map((c) => [c.metadata.name, c]));
    const secret = find(objs, 'Secret', SECRET_NAME);
    const claims = new Set(byKind(objs, 'PersistentVolumeClaim').map((c) => c.metadata.name));
    for (const { obj, spec } of podSpecs(objs)) {
      // selector matches the template
      for (const [k, v] of Object.entries(obj.spec.selector?.matchLabels ?? {})) expect(obj.spec.template.metadata.labels[k]).toBe(v);
      const volumes = new Set<string>((spec.volumes ?? []).map((v: any) => v.name));
      for (const t of obj.spec.volumeClaimTemplates ?? []) volumes.add(t.metadata.name);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        for (const m of c.volumeMounts ?? []) expect(volumes, `${obj.metadata.name}: mount ${m.name}`).toContain(m.name);
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (ref) {
            expect(ref.name).toBe(SECRET_NAME);
            expect(Object.keys(secret.stringData)).toContain(ref.key);
          }
        }
        const portNames = new Set((c.ports ?? []).map((p: any) => p.name));
        for (const p of [c.readinessProbe, c.livenessProbe, c.startupProbe].filter(Boolean)) expect(portNames).toContain(p.httpGet.port);
        expect(c.imagePullPolicy).toBe('IfNotPresent');
      }
      for (const v of spec.volumes ?? []) {
        if (v.configMap) expect(configMaps.has(v.configMap.name), v.configMap.name).toBe(true);
        for (const s of v.projected?.sources ?? []) {
          const cm = configMaps.get(s.configMap.name);
          expect(cm).toBeDefined();
          for (const item of s.configMap.items) expect(Object.keys(cm.data)).toContain(item.key);
        }
        if (v.persistentVolumeClaim) expect(claims).toContain(v.persistentVolumeClaim.claimName);
      }
      if (spec.serviceAccountName) expect(find(objs, 'ServiceAccount', spec.serviceAccountName)).toBeDefined();
    }
    // Services select pods that exist and target named ports the container declares.
    for (const svc of byKind(objs, 'Service')) {
      const target = podSpecs(objs).find(({ obj }) => obj.spec.template.metadata.labels['app.kubernetes.io/name'] === svc.spec.selector['app.kubernetes.io/name']);
      expect(target, svc.metadata.name).toBeDefined();
      const declared = target!.spec.containers[0].ports.map((p: any) => p.name);
      for (const p of svc.spec.ports) expect(declared).toContain(p.targetPort);
    }
  });

  it('gives every component the compose service name, with every port (gossip included)', () => {
    const stack = buildStack({ obi: true });
    const objs = kubernetesObjects(stack);
    for (const c of stack.components.filter((c) => c.ports.length && !c.oneShot)) {
      const svc = find(objs, 'Service', c.name);
      expect(svc.spec.type).toBe('ClusterIP');
      expect(svc.spec.ports.map((p: any) => p.port)).toEqual(c.ports.map((p) => p.port));
    }
    expect(find(objs, 'Service', 'mimir').spec.ports.map((p: any) => p.name)).toContain('gossip');
    const cluster = find(objs, 'Service', 'alloy-cluster');
    expect(cluster.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ port: 12345 }] });
  });

  it('uses Deployments, StatefulSets with claims sized by the profile, a DaemonSet for OBI and a Job for buckets', () => {
    const stack = buildStack({ obi: true, profile: 'dev' });
    const objs = kubernetesObjects(stack);
    for (const c of stack.components) expect(find(objs, c.workload, c.name), `${c.workload}/${c.name}`).toBeDefined();
    const tempo = find(objs, 'StatefulSet', 'tempo');
    expect(tempo.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stack.profile.storage.tempo);
    expect(tempo.spec.template.spec.securityContext).toEqual({
      runAsUser: 10001,
      runAsGroup: 10001,
      runAsNonRoot: true,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(tempo.spec.template.spec.initContainers[0].name).toBe('wait-for-buckets');
    const alloy = find(objs, 'StatefulSet', 'alloy');
    expect(alloy.spec.template.spec.containers[0].args).toContain('--cluster.enabled=true');
    // Read positions survive a restart: each replica's data directory is its own claim, not an emptyDir.
    expect(alloy.spec.volumeClaimTemplates[0].spec.resources.requests.storage).toBe(stack.profile.storage.alloy);
    expect(alloy.spec.template.spec.volumes.map((v: any) => v.name)).not.toContain('data');
    expect(alloy.spec.serviceName).toBe('alloy-cluster');
    expect(alloy.spec.template.spec.serviceAccountName).toBe('alloy');
    const grafana = find(objs, 'Deployment', 'grafana');
    expect(grafana.spec.strategy).toEqual({ type: 'Recreate' });
    expect(find(objs, 'PersistentVolumeClaim', 'grafana-data').spec.resources.requests.storage).toBe(stack.profile.storage.grafana);
    const obi = find(objs, 'DaemonSet', 'obi');
    expect(obi.spec.template.spec.hostPID).toBe(true);
    expect(obi.spec.template.spec.containers[0].securityContext.privileged).toBe(true);
    expect(find(objs, 'Namespace', stack.profile.namespace).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    expect(find(objs, 'Namespace', `${stack.profile.namespace}-obi`).metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(find(kubernetesObjects(buildStack()), 'Namespace', 'mop-system').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const job = find(objs, 'Job', 'buckets');
    expect(job.spec.template.spec.restartPolicy).toBe('OnFailure');
    const demo = find(objs, 'Deployment', 'demo');
    expect(demo.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');
  });

  it('scales replicas, probes readiness and sets requests and limits from the model', () => {
    const stack = buildStack({ profile: 'prod', s3Endpoint: 's3.example.com:443' });
    const objs = kubernetesObjects(stack, { credentials: fakeCredentials });
    for (const c of stack.components) {
      const w = find(objs, c.workload, c.name);
      if (c.workload !== 'Job' && c.workload !== 'DaemonSet') expect(w.spec.replicas, c.name).toBe(c.replicas);
      const ctr = w.spec.template.spec.containers[0];
      expect(ctr.resources).toEqual({ requests: c.resources.requests, limits: c.resources.limits });
      if (c.readiness) {
        expect(ctr.readinessProbe.httpGet.path).toBe(c.readiness.path);
        expect(ctr.livenessProbe.httpGet.path).toBe(c.readiness.path);
        expect(c.ports.find((p) => p.name === ctr.readinessProbe.httpGet.port)!.port).toBe(c.readiness.port);
      }
    }
    expect(find(objs, 'StatefulSet', 'store')).toBeUndefined();
    expect(find(objs, 'StatefulSet', 'mimir').spec.replicas).toBe(3);
    // External S3 over TLS: the init container waits with https.
    const init = find(objs, 'StatefulSet', 'mimir').spec.template.spec.initContainers[0];
    expect(init.args[0]).toContain('"$S3_URL"');
    expect(init.env).toContainEqual({ name: 'S3_URL', value: 'https://s3.example.com:443' });
  });

  it('grants Alloy pod discovery and pod logs in its own namespace only (a Role), OBI its metadata reads, bound to their service accounts', () => {
    const objs = kubernetesObjects(buildStack({ obi: true }));
    const roles = byKind(objs, 'ClusterRole');
    expect(roles.find((r) => r.metadata.name.endsWith('-alloy'))).toBeUndefined();
    const alloy = find(objs, 'Role', 'alloy');
    expect(alloy.metadata.namespace).toBe('mop-system');
    expect(alloy.rules).toEqual([{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] }]);
    expect(find(objs, 'RoleBinding', 'alloy')).toMatchObject({ roleRef: { kind: 'Role', name: 'alloy' }, subjects: [{ kind: 'ServiceAccount', name: 'alloy', namespace: 'mop-system' }] });
    // Collecting every namespace (opt-in) needs a ClusterRole, with the same two resources.
    const wide = byKind(kubernetesObjects(buildStack({ collectAllLogs: true })), 'ClusterRole').find((r) => r.metadata.name.endsWith('-alloy'));
    expect(wide.rules).toEqual(alloy.rules);
    const obi = roles.find((r) => r.metadata.name.endsWith('-obi'));
    // OBI's documented needs for metadata decoration: list and watch, nothing else.
    expect(obi.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'services', 'nodes'], verbs: ['list', 'watch'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['list', 'watch'] },
    ]);
    expect(find(objs, 'ClusterRoleBinding', obi.metadata.name).subjects).toEqual([{ kind: 'ServiceAccount', name: 'obi', namespace: 'mop-system-obi' }]);
    for (const b of byKind(objs, 'ClusterRoleBinding')) {
      expect(find(objs, 'ClusterRole', b.roleRef.name)).toBeDefined();
      expect(find(objs, 'ServiceAccount', b.subjects[0].name).metadata.namespace).toBe(b.subjects[0].namespace);
    }
    for (const verb of roles.flatMap((r) => r.rules.flatMap((x: any) => x.verbs))) expect(['get', 'list', 'watch']).toContain(verb);
  });

  it('puts credentials only in the Secret (and only when given), under the compose variable names, in a 0600 file', () => {
    const stack = buildStack();
    const without = kubernetesFiles(stack);
    expect(without.map((f) => f.path)).not.toContain('manifests/02-secret.yaml');
    const files = kubernetesFiles(stack, { credentials: fakeCredentials });
    const secretFile = files.find((f) => f.path === 'manifests/02-secret.yaml')!;
    expect(secretFile.mode).toBe(0o600);
    for (const f of files) {
      for (const v of Object.values(fakeCredentials)) {
        if (f !== secretFile) expect(String(f.content), f.path).not.toContain(v);
      }
    }
    const secret = find(kubernetesObjects(stack, { credentials: fakeCredentials }), 'Secret', SECRET_NAME);
    expect(secret.stringData).toEqual(Object.fromEntries(secretNames.map((n) => [secretEnvName(n), fakeCredentials[n]])));
  });

  it('builds ConfigMaps from the kind config files, keyed by file name, mounted by subPath', () => {
    const stack = buildStack();
    const objs = kubernetesObjects(stack);
    const alloy = find(objs, 'ConfigMap', 'alloy-config');
    expect(Object.keys(alloy.data).sort()).toEqual(['config.alloy', 'discovery-kubernetes-stack.alloy', 'logs-kubernetes.alloy', 'stack-kubernetes.alloy']);
    const mounts = find(objs, 'StatefulSet', 'alloy').spec.template.spec.containers[0].volumeMounts;
    expect(mounts).toContainEqual({ name: 'config', mountPath: '/etc/alloy/logs-kubernetes.alloy', subPath: 'logs-kubernetes.alloy', readOnly: true });
    const grafana = find(objs, 'Deployment', 'grafana').spec.template.spec;
    expect(grafana.containers[0].volumeMounts).toContainEqual({ name: 'dashboards', mountPath: '/etc/mop/dashboards', readOnly: true });
  });

  it('changes the pod checksum annotation when a config file changes', () => {
    const dir = tempDir('cfg');
    const sources = { config: join(dir, 'config'), dashboards: join(dir, 'dashboards') };
    mkdirSync(sources.dashboards, { recursive: true });
    const copy = () => {
      for (const c of buildStack().components) {
        for (const f of c.configFiles) {
          mkdirSync(join(sources.config, f.source, '..'), { recursive: true });
          writeFileSync(join(sources.config, f.source), `# ${f.source}\n`);
        }
      }
    };
    copy();
    const sum = () => find(kubernetesObjects(buildStack(), { sources }), 'StatefulSet', 'tempo').spec.template.metadata.annotations['mop-sandbox/config-checksum'];
    const before = sum();
    writeFileSync(join(sources.config, 'tempo/tempo.yaml'), '# changed\n');
    expect(sum()).not.toBe(before);
  });

  it('splits dashboards across ConfigMaps that stay under the client-side apply budget, keeping subfolders', () => {
    const dir = tempDir('dash');
    const sources = { config: configDir, dashboards: join(dir, 'dashboards') };
    mkdirSync(join(sources.dashboards, 'team a'), { recursive: true });
    const big = JSON.stringify({ title: 'x', panels: Array.from({ length: 900 }, (_, i) => ({ id: i, title: `panel "${i}" `.repeat(4) })) });
    for (let i = 0; i < 6; i++) writeFileSync(join(sources.dashboards, `d${i}.json`), big);
    writeFileSync(join(sources.dashboards, 'team a', 'x.json'), '{"title":"x","panels":[]}');
    writeFileSync(join(sources.dashboards, 'tsconfig.json'), '{"compilerOptions":{}}'); // not a dashboard: skipped
    const groups = kubernetesManifests(buildStack(), { sources });
    const maps = groups.find((g) => g.file === '03-dashboards.yaml')!.objects as any[];
    expect(maps.length).toBeGreaterThan(1);
    for (const m of maps) expect(JSON.stringify(m).length).toBeLessThan(CONFIGMAP_BUDGET + 4096);
    const keys = maps.flatMap((m) => Object.keys(m.data));
    expect(keys.length).toBe(7);
    const grafana = find(groups.flatMap((g) => g.objects), 'Deployment', 'grafana');
    const items = grafana.spec.template.spec.volumes.find((v: any) => v.name === 'dashboards').projected.sources.flatMap((s: any) => s.configMap.items);
    expect(items).toContainEqual({ key: 'team_a_x.json', path: 'team a/x.json' });
  });

  it('numbers the manifest files so the Namespace applies first', () => {
    const files = kubernetesFiles(buildStack({ obi: true }), { credentials: fakeCredentials }).map((f) => f.path);
    expect(files[0]).toBe('manifests/00-namespace.yaml');
    expect([...files].sort()).toEqual(files);
  });
});

describe('least privilege on Kubernetes (security review F10, config review item 7)', () => {
  /** The Pod Security "restricted" checks that apply to what we render (kubernetes.io/docs/concepts/security/pod-security-standards). */
  function restrictedViolations(spec: any): string[] {
    const out: string[] = [];
    if (spec.hostPID || spec.hostNetwork || spec.hostIPC) out.push('host namespaces');
    const podSc = spec.securityContext ?? {};
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      const sc = c.securityContext ?? {};
      if (sc.privileged) out.push(`${c.name}: privileged`);
      if (sc.allowPrivilegeEscalation !== false) out.push(`${c.name}: allowPrivilegeEscalation is not false`);
      if (!sc.capabilities?.drop?.includes('ALL')) out.push(`${c.name}: capabilities not dropped`);
      if ((sc.capabilities?.add ?? []).some((x: string) => x !== 'NET_BIND_SERVICE')) out.push(`${c.name}: adds capabilities`);
      if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) out.push(`${c.name}: runAsNonRoot is not true`);
      if ((sc.runAsUser ?? podSc.runAsUser) === 0) out.push(`${c.name}: runs as uid 0`);
      const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${c.name}: no seccomp profile`);
    }
    for (const v of spec.volumes ?? []) if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
    return out;
  }

  it.each(variants.filter((o) => !o.obi).map((o) => [label(o), o] as const))('every pod meets Pod Security "restricted", which the namespace enforces (%s)', (_, opts) => {
    const objs = all(opts);
    expect(objs[0].metadata!.labels!['pod-security.kubernetes.io/enforce']).toBe('restricted');
    for (const { obj, spec } of podSpecs(objs)) expect(restrictedViolations(spec), `${obj.kind}/${obj.metadata.name}`).toEqual([]);
  });

  it('the restricted check catches a root container and a missing seccomp profile', () => {
    const [{ spec }] = podSpecs(all({}));
    spec.securityContext = { runAsUser: 0 };
    expect(restrictedViolations(spec).join('; ')).toMatch(/runs as uid 0.*no seccomp profile/);
  });

  it('only OBI (opt-in, eBPF) is privileged, in a privileged namespace of its own; the stack\'s stays restricted', () => {
    const objs = all({ obi: true });
    const namespaces = byKind(objs, 'Namespace');
    expect(namespaces.map((n) => [n.metadata.name, n.metadata.labels['pod-security.kubernetes.io/enforce']])).toEqual([
      ['mop-system', 'restricted'],
      ['mop-system-obi', 'privileged'],
    ]);
    // OBI's namespace names the stack's, so `down` and prune find it.
    expect(namespaces[1].metadata.labels['mop-sandbox/namespace']).toBe('mop-system');
    expect(byKind(all({}), 'Namespace').map((n) => n.metadata.name)).toEqual(['mop-system']);
    // Only the privileged pod is in the privileged namespace; only it (and Alloy) get an API token.
    for (const { obj, spec } of podSpecs(objs)) {
      expect(obj.metadata.namespace === 'mop-system-obi', obj.metadata.name).toBe(obj.metadata.name === 'obi');
      expect(spec.automountServiceAccountToken, obj.metadata.name).toBe(['obi', 'alloy'].includes(obj.metadata.name));
    }
    // OBI sends OTLP to Alloy across namespaces: by its namespaced name, and Alloy's NetworkPolicy admits it from there.
    const obi = podSpecs(objs).find((p) => p.obj.metadata.name === 'obi')!;
    expect(obi.spec.containers[0].env).toContainEqual({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://alloy.mop-system.svc:4318' });
    const alloyPolicy = byKind(objs, 'NetworkPolicy').find((p) => p.metadata.name === 'alloy');
    expect(alloyPolicy.spec.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mop-system-obi' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'obi', 'app.kubernetes.io/part-of': 'mop-sandbox' } } }],
      ports: [{ protocol: 'TCP', port: 4318 }],
    });
    expect(byKind(objs, 'NetworkPolicy').find((p) => p.metadata.name === 'obi').metadata.namespace).toBe('mop-system-obi');
    for (const { obj, spec } of podSpecs(objs)) {
      const root = [spec.securityContext.runAsUser, ...spec.containers.map((c: any) => c.securityContext?.runAsUser)].includes(0);
      expect(root, obj.metadata.name).toBe(obj.metadata.name === 'obi');
    }
  });

  it('a NetworkPolicy per component admits exactly the model\'s talksTo, its own replicas, and published ports', () => {
    const stack = buildStack({ demo: true });
    const objs = kubernetesObjects(stack);
    const policies = byKind(objs, 'NetworkPolicy');
    expect(policies.map((p) => p.metadata.name).sort()).toEqual(stack.components.map((c) => c.name).sort());
    const admits = (target: string, client: string, port: number) =>
      find(objs, 'NetworkPolicy', target).spec.ingress?.some(
        (r: any) => (!r.from || r.from.some((f: any) => f.podSelector?.matchLabels?.['app.kubernetes.io/name'] === client)) && r.ports.some((p: any) => p.port === port),
      ) ?? false;
    for (const p of policies) expect(p.spec.policyTypes).toEqual(['Ingress']);
    // Declared connections pass.
    expect(admits('store', 'tempo', 9000)).toBe(true);
    expect(admits('mimir', 'tempo', 8080)).toBe(true);
    expect(admits('alloy', 'demo', 4318)).toBe(true);
    expect(admits('mimir', 'mimir', 7946)).toBe(true);
    // Undeclared ones do not: the demo cannot reach Loki's gossip port or the store, Grafana cannot reach the store,
    // the bucket job (no ports) admits nobody.
    expect(admits('loki', 'demo', 7946)).toBe(false);
    expect(admits('store', 'grafana', 9000) && !stack.published.some((p) => p.component === 'store')).toBe(false);
    expect(find(objs, 'NetworkPolicy', 'buckets').spec.ingress).toBeUndefined();
    // Only published ports are open to any source (kind's NodePorts); the gossip ports never are.
    for (const p of policies) {
      for (const rule of p.spec.ingress ?? []) {
        if (rule.from) continue;
        const published = stack.published.filter((x) => x.publisher === p.metadata.name).map((x) => x.containerPort);
        for (const port of rule.ports) expect(published, `${p.metadata.name}:${port.port}`).toContain(port.port);
      }
    }
    for (const c of stack.components) {
      for (const ref of c.talksTo) {
        const target = stack.components.find((x) => x.name === ref.name)!;
        expect(admits(ref.name, c.name, target.ports.find((p) => p.name === ref.port)!.port), `${c.name} -> ${ref.name}:${ref.port}`).toBe(true);
      }
    }
  });

  it('the wait-for-buckets init container carries the component\'s own S3 key pair, not the root pair', () => {
    const objs = all({});
    const init = find(objs, 'StatefulSet', 'loki').spec.template.spec.initContainers[0];
    const keys = init.env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.key]);
    expect(keys).toEqual([
      ['S3_ACCESS_KEY_ID', 'MOP_S3_LOKI_ACCESS_KEY_ID'],
      ['S3_SECRET_ACCESS_KEY', 'MOP_S3_LOKI_SECRET_ACCESS_KEY'],
    ]);
  });
});
