/**
 * Which images the cluster will pull, and which of them the kind node already holds (`crictl images -o json`
 * inside the node), so `up` can pull the rest before the readiness clock starts.
 */
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../render/kubernetes.js';

/** Every container and init container image of the render's workloads, once each, in render order. */
export function imagesOf(objects: KubeObject[], except: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const spec = (o as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
    if (!spec) continue;
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      if (c.image && !except.has(c.image) && !out.includes(c.image)) out.push(c.image);
    }
  }
  return out;
}

/**
 * "grafana/grafana:12.3@sha256:…" → how containerd names it: { name: "docker.io/grafana/grafana", tag: "12.3",
 * digest: "sha256:…" }. Docker Hub's implicit registry and `library/` are made explicit.
 */
export function normalizeImage(ref: string): { name: string; tag?: string; digest?: string } {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const first = rest.split('/')[0];
  const hasRegistry = rest.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  let name = hasRegistry ? rest : `docker.io/${rest}`;
  if (!hasRegistry && !rest.includes('/')) name = `docker.io/library/${rest}`;
  return { name, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

export interface CriImages {
  images?: { repoTags?: string[] | null; repoDigests?: string[] | null }[];
}

/** Whether the node holds `ref`: by digest when the reference pins one, else by tag (`latest` when none). */
export function nodeHasImage(list: CriImages, ref: string): boolean {
  const want = normalizeImage(ref);
  return (list.images ?? []).some((img) =>
    want.digest
      ? (img.repoDigests ?? []).includes(`${want.name}@${want.digest}`)
      : (img.repoTags ?? []).includes(`${want.name}:${want.tag ?? 'latest'}`),
  );
}
