/**
 * The images stage of the kind runtime: build and `kind load` what is built here; find which images the cluster
 * will pull and which of them the kind node already holds (`crictl images -o json` inside the node), and pull the
 * rest into the node before the readiness clock starts.
 */
import { join } from 'node:path';
import type { PodSpec } from 'kubernetes-types/core/v1.js';
import { ExitCode, UserError } from '../../lib/errors.js';
import { stderrTail } from '../../lib/exec.js';
import type { Output } from '../../lib/output.js';
import type { KubeObject } from '../../render/kubernetes.js';
import type { Component, Stack } from '../../stack/model.js';
import { explain, kind, run, type KindContext } from './context.js';
import { definitivePull } from './kube-state.js';

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

/** Builds a local image and loads it into the node; returns its image ID (it goes on the pod template). */
export async function buildAndLoad(cx: KindContext, c: Component, out: Output, signal: AbortSignal): Promise<string> {
  const step = out.step(`image ${c.image} (docker build, kind load)`);
  try {
    await run(cx, 'docker', ['build', '-f', join(cx.root, c.build!.dockerfile), '-t', c.image, cx.root], { signal });
  } catch (e) {
    step.fail();
    if (signal.aborted) throw e;
    throw explain(
      e,
      `could not build the ${c.name} image ${c.image}`,
      `read the build output above; build it by hand with \`docker build -f ${c.build!.dockerfile} -t ${c.image} .\` in ${cx.root}, or run without it (MOP_DEMO=false)`,
      'IMAGE_BUILD_FAILED',
    );
  }
  try {
    await kind(cx, ['load', 'docker-image', c.image, '--name', cx.project], { signal });
  } catch (e) {
    step.fail();
    if (signal.aborted) throw e;
    throw explain(
      e,
      `could not load the image ${c.image} into the kind cluster ${cx.project}`,
      `try it by hand: \`kind load docker-image ${c.image} --name ${cx.project}\`; if the cluster is broken, \`mop-sandbox down --purge\``,
      'KIND_LOAD_FAILED',
    );
  }
  const id = (await run(cx, 'docker', ['image', 'inspect', '--format', '{{.Id}}', c.image], { signal })).stdout.trim();
  step.ok(id.replace(/^sha256:/, '').slice(0, 12));
  return id;
}

/** Pulls every image the render names (except those built here) into the node, a few at a time, with retries. */
export async function pullImages(cx: KindContext, stack: Stack, objects: KubeObject[], out: Output, signal: AbortSignal): Promise<void> {
  const node = `${cx.project}-control-plane`;
  const images = imagesOf(objects, new Set(stack.components.filter((c) => c.build).map((c) => c.image)));
  const listed = await run(cx, 'docker', ['exec', node, 'crictl', 'images', '-o', 'json'], { allowFail: true, signal });
  let present: CriImages;
  try {
    if (listed.exitCode !== 0) throw new Error(stderrTail(listed.stderr || listed.stdout, 1) || `exit ${listed.exitCode}`);
    present = JSON.parse(listed.stdout) as CriImages;
  } catch (e) {
    // No way into the node (another kind provider, an old node image): the kubelet pulls instead, on the clock.
    if (signal.aborted) throw e;
    out.warn(`could not list the images in the kind node ${node} (${(e as Error).message}); the cluster pulls them itself, inside the readiness deadline`);
    return;
  }
  const missing = images.filter((i) => !nodeHasImage(present, i));
  if (!missing.length) {
    out.step(`images: all ${images.length} present in the kind node`).ok('no pull needed');
    return;
  }
  const steps = out.group(missing.map((i) => `pull ${i} (into the kind node)`));
  const failures: { image: string; stderr: string }[] = [];
  const pullOne = async (image: string, i: number) => {
    const started = cx.now();
    for (let attempt = 1; ; attempt++) {
      const r = await run(cx, 'docker', ['exec', node, 'crictl', 'pull', image], { allowFail: true, signal });
      if (r.exitCode === 0) return steps[i].ok(`${((cx.now() - started) / 1000).toFixed(1)}s`);
      if (signal.aborted) return steps[i].fail('interrupted');
      if (attempt >= 3 || definitivePull.test(r.stderr)) {
        steps[i].fail(stderrTail(r.stderr, 1));
        failures.push({ image, stderr: r.stderr });
        return;
      }
      steps[i].update(`retrying (attempt ${attempt + 1} of 3)`);
      await new Promise((res) => setTimeout(res, cx.pollMs * attempt));
    }
  };
  const queue = missing.map((image, i) => () => pullOne(image, i));
  await Promise.all(
    Array.from({ length: Math.min(3, queue.length) }, async () => {
      for (let job = queue.shift(); job; job = queue.shift()) await job();
    }),
  );
  if (signal.aborted) throw signal.reason ?? new Error('interrupted');
  if (!failures.length) return;
  throw new UserError({
    what: `could not pull ${failures.map((f) => f.image).join(', ')} into the kind node`,
    why: stderrTail(failures[0].stderr, 1),
    details: failures.flatMap((f) => [`${f.image}:`, ...stderrTail(f.stderr, 5).split('\n').map((l) => `  ${l}`)]),
    next: loadHint(cx, failures[0].image),
    exitCode: ExitCode.preflight,
    code: 'IMAGE_PULL_FAILED',
  });
}

/**
 * How to get an image into the node by hand. Through an archive for one platform: `kind load docker-image` of a
 * pulled multi-platform image fails on Docker's containerd image store (kubernetes-sigs/kind#3795).
 */
export function loadHint(cx: KindContext, image: string): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return (
    `check that this machine can pull it: \`docker pull --platform linux/${arch} ${image}\`; then load it into the cluster: ` +
    `\`docker save --platform linux/${arch} -o image.tar ${image} && kind load image-archive image.tar --name ${cx.project}\`, ` +
    'and run `mop-sandbox up` again; behind a mirror set MOP_REGISTRY_MIRROR'
  );
}
