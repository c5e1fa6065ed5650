/**
 * Supply chain (security review F12): every pulled image is pinned by digest as well as tag, from one source
 * (scripts/stack/versions.ts). An image the pin review found no digest for is named here, with its reason in
 * versions.ts; adding an image, or changing a tag, without a digest fails this test.
 */
import { describe, expect, it } from 'vitest';
import { buildStack } from '../../scripts/stack/model.js';
import { imageReference } from '../../scripts/stack/options.js';
import { images, imageRef, type ImageKey, type ImagePin } from '../../scripts/stack/versions.js';

/** No digest evidence for exactly these tags (see each pin's `noDigest`). */
const withoutDigest: ImageKey[] = ['mimir', 'obi'];

const pins = Object.entries(images) as [ImageKey, ImagePin][];

describe('image pins', () => {
  it.each(pins.filter(([k]) => !withoutDigest.includes(k)))('%s is pinned as tag@sha256 with the digest\'s source', (_key, pin) => {
    expect(pin.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    // The evidence: the pin review, or third-party pins of exactly this tag found by code search.
    expect(pin.digestSource).toMatch(/review-pins-2026-11-29\.md|\[3P\]/);
    // The evidence names exactly this tag: changing the tag without finding its own digest fails here.
    expect(pin.digestSource, `a digest for exactly ${pin.repository}:${pin.tag}, with its source`).toContain(`${pin.repository}:${pin.tag}`);
    expect(pin.tag).not.toContain('@');
    expect(imageRef(pin)).toBe(`${pin.repository}:${pin.tag}@${pin.digest}`);
    expect(imageRef(pin)).toMatch(imageReference);
  });

  it.each(withoutDigest)('%s has no digest and says why', (key) => {
    const pin: ImagePin = images[key];
    expect(pin.digest).toBeUndefined();
    expect(pin.noDigest).toMatch(/review-pins-2026-11-29\.md/);
    expect(pin.noDigest).toContain(`${pin.repository}:${pin.tag}`);
  });

  it('no two images share a digest (a copy-paste would)', () => {
    const digests = pins.map(([, p]) => p.digest).filter(Boolean);
    expect(new Set(digests).size).toBe(digests.length);
  });

  it('every pulled image of every stack variant carries its digest', () => {
    const stack = buildStack({ obi: true, demo: true });
    const seaweed = buildStack({ store: 'seaweedfs' });
    const refs = [...stack.components, ...seaweed.components].filter((c) => !c.build).map((c) => c.image);
    for (const [key, pin] of pins) {
      if (key === 'kindNode' || key === 'node') continue;
      expect(refs).toContain(imageRef(pin));
    }
    for (const ref of refs) {
      const pinned = pins.find(([, p]) => ref === imageRef(p));
      expect(pinned, ref).toBeDefined();
    }
  });
});
