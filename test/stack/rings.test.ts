/**
 * Mimir's and Loki's rings in every profile: replicas find each other through a gossip name that lists every
 * replica, ready or not (compose alias, headless Service), each ring has its own cluster label, replication
 * keeps writes and reads working while one pod restarts wherever there is more than one replica, the stack's
 * self-monitoring scrapes each pod on its own, and each Go process stays inside its memory limit.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Service } from 'kubernetes-types/core/v1.js';
import { composeDocument } from '../../scripts/render/compose.js';
import { kubernetesObjects } from '../../scripts/render/kubernetes.js';
import { buildStack, component, goMemLimit, ringReplicationFactor, type Component, type StackOptions } from '../../scripts/stack/model.js';
import { profileNames } from '../../scripts/stack/profiles.js';
import { quantityBytes } from '../../scripts/stack/quantities.js';
import { parseAlloy, type AlloyBlock } from '../support/alloy-grammar.js';
import { configDir } from '../configs/paths.js';

const ringed = ['mimir', 'loki'] as const;
const optsFor = (profile: (typeof profileNames)[number]): StackOptions => ({ profile, s3Endpoint: 's3.example.com:443' });

/** A config file as the component reads it: `${VAR}` filled from the component's literal environment. */
function configOf(c: Component): any {
  const text = readFileSync(join(configDir, c.configFiles[0].source), 'utf8');
  const env = Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, typeof v === 'string' ? v : 'secret']));
  return parseYaml(text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name) => env[name] ?? `<unset ${name}>`));
}

/** The replication factors a config sets, by path. */
function replicationFactors(name: (typeof ringed)[number], config: any): Record<string, number> {
  if (name === 'mimir') {
    return {
      'ingester.ring.replication_factor': Number(config.ingester.ring.replication_factor),
      'store_gateway.sharding_ring.replication_factor': Number(config.store_gateway.sharding_ring.replication_factor),
    };
  }
  return { 'common.replication_factor': Number(config.common.replication_factor) };
}

describe.each(profileNames)('%s profile', (profile) => {
  const stack = buildStack(optsFor(profile));

  it.each(ringed)('%s joins its ring through a gossip name that lists every replica, ready or not', (name) => {
    const c = component(stack, name)!;
    const gossip = c.ports.find((p) => p.protocol === 'gossip')!;
    expect(c.gossipService).toBe(`${name}-gossip`);
    expect(configOf(c).memberlist.join_members).toEqual([`dns+${c.gossipService}:${gossip.port}`]);

    const svc = composeDocument(stack).services[name];
    expect(svc.networks).toEqual({ default: { aliases: [c.gossipService] } });

    const headless = kubernetesObjects(stack).find((o) => o.kind === 'Service' && o.metadata?.name === c.gossipService) as Service;
    expect(headless?.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    expect(headless.spec!.ports).toEqual([expect.objectContaining({ port: gossip.port, targetPort: gossip.name })]);
    const sts = kubernetesObjects(stack).find((o) => o.kind === 'StatefulSet' && o.metadata?.name === name) as any;
    expect(sts.spec.template.metadata.labels).toMatchObject(headless.spec!.selector!);
  });

  it('each ring has its own cluster label', () => {
    const labels = ringed.map((name) => configOf(component(stack, name)!).memberlist.cluster_label);
    expect(labels.every((l) => typeof l === 'string' && l.length > 0)).toBe(true);
    expect(new Set(labels).size).toBe(labels.length);
  });

  it.each(ringed)('%s keeps writes and reads working while one pod restarts, or runs one replica', (name) => {
    const c = component(stack, name)!;
    const rfs = replicationFactors(name, configOf(c));
    for (const [path, rf] of Object.entries(rfs)) {
      expect(rf, path).toBe(ringReplicationFactor(c.replicas));
      expect(c.replicas, `${path}: fewer replicas than copies`).toBeGreaterThanOrEqual(rf);
      if (c.replicas > 1) {
        const quorum = Math.floor(rf / 2) + 1;
        // Every series or stream has rf copies; with one pod away, rf - 1 copies remain and must reach the quorum.
        expect(rf - 1, `${path}: RF ${rf} on ${c.replicas} replicas loses its quorum when one pod restarts`).toBeGreaterThanOrEqual(quorum);
      }
    }
  });

  it.each(ringed)('%s has a Go memory limit inside its container limit, with room for its caches', (name) => {
    const c = component(stack, name)!;
    const limit = quantityBytes(c.resources.limits.memory);
    const gomemlimit = quantityBytes(String(c.env.GOMEMLIMIT).replace(/B$/, ''));
    expect(gomemlimit).toBeLessThan(limit);
    expect(gomemlimit).toBeGreaterThanOrEqual(limit * 0.7);
    // The caches the config sizes may take at most half of the heap, leaving the rest to ingestion and queries.
    expect(cacheBytes(name, configOf(c)), `${name} caches`).toBeLessThanOrEqual(gomemlimit / 2);
  });
});

/** The bytes a config lets its in-process caches grow to. */
function cacheBytes(name: (typeof ringed)[number], config: any): number {
  if (name === 'mimir') {
    const store = config.blocks_storage.bucket_store;
    return Number(store.index_cache.inmemory.max_size_bytes) + Number(store.series_hash_cache_max_size_bytes);
  }
  const mb = 2 ** 20;
  const chunks = Number(config.chunk_store_config.chunk_cache_config.embedded_cache.max_size_mb) * mb;
  // Loki copies the results cache settings to the index-stats, volume, series, labels and instant-metric caches
  // (pkg/loki/config_wrapper.go applyEmbeddedCacheConfig@v3.7.6): six caches of that size.
  const results = Number(config.query_range.results_cache.cache.embedded_cache.max_size_mb) * mb * 6;
  return chunks + results;
}

describe('prod', () => {
  it('runs Mimir and Loki with three replicas each, so one can restart', () => {
    const stack = buildStack(optsFor('prod'));
    for (const name of ringed) expect(component(stack, name)!.replicas).toBe(3);
  });

  it('goMemLimit is 80% of the limit', () => {
    expect(goMemLimit('1Gi')).toBe('819MiB');
    expect(goMemLimit('512Mi')).toBe('409MiB');
  });
});

// ------------------------------------------------------------------------------------------------
// Self-monitoring on kind: what stack-kubernetes.alloy makes of the pods it discovers.

interface Rule {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: string;
}

const rulesOf = (block: AlloyBlock): Rule[] =>
  block.blocks
    .filter((b) => b.name === 'rule')
    .map((r) => {
      const rule: Rule = {};
      for (const a of r.attributes) {
        if (a.name === 'source_labels') rule.source_labels = a.strings;
        else if (a.name === 'replacement' && /sys\.env\("MOP_STORE"\)/.test(a.value)) rule.replacement = '${MOP_STORE}';
        else (rule as any)[a.name] = a.strings[0];
      }
      return rule;
    });

/** Prometheus relabelling (replace, keep, drop) as Alloy's discovery.relabel applies it. */
function relabel(targets: Record<string, string>[], rules: Rule[], env: Record<string, string>): Record<string, string>[] {
  const out: Record<string, string>[] = [];
  next: for (const original of targets) {
    const t = { ...original };
    for (const r of rules) {
      const value = (r.source_labels ?? []).map((l) => t[l] ?? '').join(r.separator ?? ';');
      const re = new RegExp(`^(?:${r.regex ?? '(.*)'})$`);
      const m = re.exec(value);
      const action = r.action ?? 'replace';
      if (action === 'keep' && !m) continue next;
      if (action === 'drop' && m) continue next;
      if (action === 'replace' && m) {
        const replacement = (r.replacement ?? '$1').replace('${MOP_STORE}', env.MOP_STORE ?? '');
        t[r.target_label!] = replacement.replace(/\$(\d)/g, (_x, i) => m[Number(i)] ?? '');
      }
    }
    out.push(Object.fromEntries(Object.entries(t).filter(([k]) => !k.startsWith('__meta_') && k !== '__store_kind')));
  }
  return out;
}

/** What discovery.kubernetes role=pod reports: one target per container port of each pod. */
function podTargets(stack: ReturnType<typeof buildStack>): Record<string, string>[] {
  return stack.components
    .filter((c) => !c.oneShot)
    .flatMap((c) =>
      Array.from({ length: c.replicas }, (_, i) => `${c.name}-${i}`).flatMap((pod) =>
        c.ports.map((p) => ({
          __address__: `10.0.0.${p.port % 250}:${p.port}`,
          __meta_kubernetes_pod_name: pod,
          __meta_kubernetes_pod_phase: 'Running',
          __meta_kubernetes_pod_label_app_kubernetes_io_name: c.name,
          __meta_kubernetes_pod_container_port_name: p.name,
        })),
      ),
    );
}

describe('self-monitoring on kind', () => {
  const file = parseAlloy(readFileSync(join(configDir, 'alloy/stack-kubernetes.alloy'), 'utf8'));
  const discovery = file.blocks.find((b) => b.name === 'discovery.kubernetes' && b.label === 'stack')!;
  const rules = rulesOf(file.blocks.find((b) => b.name === 'discovery.relabel' && b.label === 'stack')!);

  it('discovers pods (not Services) in its own namespace', () => {
    expect(discovery.attributes.find((a) => a.name === 'role')!.strings).toEqual(['pod']);
    expect(discovery.blocks.find((b) => b.name === 'namespaces')!.attributes.find((a) => a.name === 'own_namespace')).toBeDefined();
  });

  it.each(profileNames)('%s: one target per pod of each component, each its own instance', (profile) => {
    const stack = buildStack({ ...optsFor(profile), store: 'minio' });
    const alloy = component(stack, 'alloy')!;
    const targets = relabel(podTargets(stack), rules, { MOP_STORE: String(alloy.env.MOP_STORE) });
    const expected = stack.components
      .filter((c) => ['tempo', 'mimir', 'loki', 'grafana', 'store'].includes(c.name))
      .flatMap((c) => Array.from({ length: c.replicas }, (_, i) => `${c.name}/${c.name}-${i}`));
    expect(targets.map((t) => `${t.job}/${t.instance}`).sort()).toEqual(expected.sort());
    const mimirPods = targets.filter((t) => t.job === 'mimir');
    expect(new Set(mimirPods.map((t) => t.instance)).size).toBe(component(stack, 'mimir')!.replicas);
    expect(targets.find((t) => t.job === 'store')?.__metrics_path__).toBe('/minio/v2/metrics/cluster');
  });

  it('skips the store unless it is the MinIO line', () => {
    const stack = buildStack({ store: 'seaweedfs' });
    const targets = relabel(podTargets(stack), rules, { MOP_STORE: 'seaweedfs' });
    expect(targets.map((t) => t.job)).not.toContain('store');
  });
});
