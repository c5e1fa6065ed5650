/** `up`'s images stage on kind (scripts/runtimes/kind/images.ts): build and load the demo, pull into the node; against the recorded shell of ./world.ts. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { kindClusterConfig } from '../../../scripts/render/kind.js';
import { kubernetesObjects, IMAGE_ID_ANNOTATION } from '../../../scripts/render/kubernetes.js';
import { configMappings } from '../../../scripts/runtimes/kind/start.js';
import { imagesOf } from '../../../scripts/runtimes/kind/images.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { capturedOutput, type Rule } from '../kind-shell.js';
import { parseAllDocuments } from 'yaml';
import { creds, K, GET_ALL, setup, workloadList, demoImage, DEMO_ID, NODE, criImages, VERSIONS, freshClusterRules } from './world.js';

describe('kind up: images, rollout, prune, profile switch (recorded shell)', () => {
  it('pulls every image into the node before the readiness clock starts: 8 slow pulls do not eat a 180 s deadline', async () => {
    const stack = buildStack();
    let clock = 0;
    const box = await setup(stack, [], { now: () => clock });
    const images = imagesOf(kubernetesObjects(stack, { sources: box.sources }), new Set([demoImage(stack)]));
    expect(images.length).toBeGreaterThanOrEqual(7);
    box.sh.rules.push(
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      ['docker build', {}],
      ['kind load docker-image', {}],
      ['docker image inspect --format "{{.Id}}"', { stdout: DEMO_ID }],
      [`${NODE} images -o json`, { stdout: '{"images":[]}' }],
      [
        `${NODE} pull`,
        () => {
          clock += 100_000; // every pull takes 100 s
          return { stdout: 'Image is up to date for sha256:…' };
        },
      ],
      [`${K} version -o json`, { stdout: VERSIONS }],
      [`${K} apply`, {}],
      [GET_ALL, () => ((clock += 1000), { stdout: workloadList(box, stack, true) })],
    );
    const { out, text } = capturedOutput();
    const times = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out, readyTimeoutMs: 180_000 });
    const pulls = box.sh.calls.filter((c) => c.startsWith(`${NODE} pull`));
    expect(pulls).toEqual(images.map((i) => `${NODE} pull ${i}`));
    const lastPull = box.sh.calls.lastIndexOf(pulls.at(-1)!);
    expect(box.sh.calls.findIndex((c) => c.startsWith(`${K} apply`))).toBeGreaterThan(lastPull);
    // The deadline measured readiness only: ready a second after apply, not 800 s after the start.
    for (const t of Object.values(times)) expect(t).toBeLessThan(5);
    // Progress: one line per pulled image.
    for (const i of images) expect(text()).toMatch(new RegExp(`✓ pull ${i.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(into the kind node\\)\\s+\\d+\\.\\ds`));
  });

  it('images the node already holds are not pulled again', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    box.sh.rules.push(...freshClusterRules(stack, [workloadList(box, stack, true)], box));
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls.some((c) => c.startsWith(`${NODE} pull`))).toBe(false);
    expect(text()).toMatch(/images: all \d+ present in the kind node/);
  });

  it('a node it cannot list images in: no pre-pull, a warning, and up goes on (the kubelet pulls)', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack);
    box.sh.rules.push(...freshClusterRules(stack, [workloadList(box, stack, true)], box));
    box.sh.rules.unshift([`${NODE} images -o json`, { exitCode: 1, stderr: 'Error response from daemon: No such container: mop-sandbox-control-plane' }]);
    const { out, text } = capturedOutput();
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out });
    expect(box.sh.calls.some((c) => c.startsWith(`${NODE} pull`))).toBe(false);
    expect(text()).toContain('could not list the images in the kind node mop-sandbox-control-plane (Error response from daemon: No such container');
  });

  it('a pull that fails for good stops before apply, with the save + `kind load image-archive` fix', async () => {
    const stack = buildStack({ demo: false });
    const box = await setup(stack, [
      ['kind get clusters', { stdout: '' }],
      ['kind create cluster', {}],
      [`${NODE} images -o json`, { stdout: '{"images":[]}' }],
      [`${NODE} pull`, (line) => (line.includes('grafana/grafana') ? { exitCode: 1, stderr: 'E1129 pull failed: rpc error: ... grafana/grafana: not found' } : {})],
    ]);
    const err = await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out }).catch((e) => e);
    expect(err).toMatchObject({ code: 'IMAGE_PULL_FAILED', exitCode: ExitCode.preflight });
    expect(err.what).toMatch(/^could not pull grafana\/grafana:\S+ into the kind node$/);
    expect(err.next).toContain('kind load image-archive image.tar --name mop-sandbox');
    expect(box.sh.calls.some((c) => c.includes(' apply '))).toBe(false);
    // Definitive ("not found"): no retries.
    expect(box.sh.calls.filter((c) => c.includes('pull grafana/grafana'))).toHaveLength(1);
  });

  it('a rebuilt demo image rolls out: its new image ID changes the applied pod template', async () => {
    const stack = buildStack();
    const box = await setup(stack);
    const existing = (id: string): Rule[] => [
      [GET_ALL, { stdout: workloadList(box, stack, true) }],
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get`, { stdout: '{"items":[]}' }],
      ['docker build', {}],
      ['kind load docker-image', {}],
      ['docker image inspect --format "{{.Id}}"', { stdout: id }],
      [`${NODE} images -o json`, { stdout: criImages(stack, box) }],
      [`${K} version -o json`, { stdout: VERSIONS }],
      [`${K} delete`, {}],
      [`${K} apply`, {}],
    ];
    mkdirSync(box.dir, { recursive: true });
    writeFileSync(join(box.dir, 'cluster.json'), JSON.stringify({ cluster: 'mop-sandbox', createdAt: 'x', portMappings: configMappings(kindClusterConfig(stack)) }));
    const demoTemplate = () => parseAllDocuments(readFileSync(join(box.dir, 'manifests', '17-demo.yaml'), 'utf8')).map((d) => d.toJS()).find((o) => o.kind === 'Deployment').spec.template;
    box.sh.rules = existing('sha256:1111');
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    const first = demoTemplate();
    box.sh.rules = existing('sha256:2222');
    await box.rt.up(stack, { credentials: creds, signal: new AbortController().signal, out: capturedOutput().out });
    const second = demoTemplate();
    expect(first.metadata.annotations[IMAGE_ID_ANNOTATION]).toBe('sha256:1111');
    expect(second.metadata.annotations[IMAGE_ID_ANNOTATION]).toBe('sha256:2222');
    // Same tag both times: only the annotation tells Kubernetes the template changed.
    expect(second.spec.containers[0].image).toBe(first.spec.containers[0].image);
  });
});
