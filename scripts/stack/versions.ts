/**
 * Every image the stack runs, pinned, with the reason for the pin. The only place an image tag or digest appears.
 * Evidence tiers follow shared/design/STACK.md §1: [S] read in the upstream repository, [D] upstream docs, [3P] third party.
 *
 * Digests: a tag can be re-pushed, a digest cannot, so every image is pulled as `repository:tag@sha256:…` (the tag
 * stays for people). No registry is reachable where this is written, so each digest comes from the pin review
 * (shared/reviews/review-pins-2026-11-29.md) citing independent third-party pins of that exact tag, and says so in
 * `digestSource`. An image with no such evidence has no digest and says why in `noDigest`; a test keeps that list
 * explicit. Changing a tag means changing its digest (or moving it to `noDigest`) in the same edit.
 */
export interface ImagePin {
  repository: string;
  tag: string;
  /** The manifest-list (multi-platform) digest of exactly this tag: "sha256:<64 hex>". */
  digest?: string;
  /** Where the digest comes from. */
  digestSource?: string;
  /** Why there is no digest (no evidence for this exact tag). */
  noDigest?: string;
  /** Why this tag and not a newer one. */
  reason: string;
}

const PIN_REVIEW = 'shared/reviews/review-pins-2026-11-29.md';

export const images = {
  grafana: {
    repository: 'grafana/grafana',
    tag: '13.2.0',
    digest: 'sha256:3fd54ae1214669f8355f065ec9f6445d5279a3d77095ab048ca045685272429b',
    digestSource: `${PIN_REVIEW} §1: the same digest pinned for grafana/grafana:13.2.0 by two unrelated repositories [3P]`,
    reason:
      'Newest Grafana with upstream evidence [S docker-otel-lgtm v0.31.0 Dockerfile]. grafana/grafana (not -oss: frozen at 12.4). 13.2.1+ only seen in third-party pins.',
  },
  tempo: {
    repository: 'grafana/tempo',
    tag: '3.0.3',
    digest: 'sha256:0296560ac66f8a3600d7fb3014a52c189d4d9c3549ad6ff441bf2409855d68d5',
    digestSource: `${PIN_REVIEW} §2: pinned for grafana/tempo:3.0.3 by several repositories [3P]`,
    reason: 'Tag v3.0.3 read upstream [S]; matches shared/reference/tempo-3.0.3.json exactly. 3.1.0 only in third-party pins, changelog unread.',
  },
  loki: {
    repository: 'grafana/loki',
    tag: '3.7.6',
    digest: 'sha256:efd47c67f9bac88ca29bcf8cb997d9ab29d1848bd0aff579282295542a745952',
    digestSource: `${PIN_REVIEW} §3: multi-platform digest of grafana/loki:3.7.6, checked with docker buildx imagetools inspect on 2026-08-23 [3P]`,
    reason:
      'Tag v3.7.6 read upstream [S]; matches shared/reference/loki-3.7.6.json. Stay on 3.7.x: main heads to Loki 4.0 with renamed S3 keys.',
  },
  mimir: {
    repository: 'grafana/mimir',
    tag: '3.0.2',
    noDigest: `${PIN_REVIEW} §4 found no third-party pin of grafana/mimir:3.0.2 at all, and a search of public repositories for a digest of it found none`,
    reason:
      'The newest release whose full config tree we can check (shared/reference/mimir-3.0.2.json). 3.1.1 is newer [D changelog] but its added/removed keys cannot be verified here; bump together with the key tree.',
  },
  alloy: {
    repository: 'grafana/alloy',
    tag: 'v1.18.1',
    digest: 'sha256:0f4434c92b3e6cdac38bb129b344e1790c246f7b6e2eaffcc16a5fa363240e33',
    digestSource: `${PIN_REVIEW} §5: multi-platform digest of grafana/alloy:v1.18.1 from a digest check on 2026-08-23 [3P] (another repository's @sha256:754409730f… is probably one platform's)`,
    reason:
      'Released 2026-08-06 [S]; matches shared/reference/alloy-1.18.1-components.json. v1.19.0 was only an rc when read. Note the v prefix.',
  },
  obi: {
    repository: 'otel/ebpf-instrument',
    tag: 'v0.11.0',
    noDigest: `${PIN_REVIEW} §6 cites uses of otel/ebpf-instrument:v0.11.0 by tag only; a search of public repositories found no digest pinned for it`,
    reason: 'Pinned by docker-otel-lgtm v0.31.0 [S]; Config v1 env vars used here are documented for it. v1.0.0 only seen third-party.',
  },
  /** The MinIO line: Silo, Pigsty's maintained MinIO fork, published as pgsty/minio (same CLI and on-disk format). */
  minio: {
    repository: 'pgsty/minio',
    tag: 'RELEASE.2026-03-14T12-00-00Z',
    noDigest: `no digest of pgsty/minio:RELEASE.2026-03-14T12-00-00Z: ${PIN_REVIEW} §7 mentions a third-party digest pin of pgsty/minio without saying which tag, and the pgsty/minio digests found in public repositories belong to other tags (b6bfe723… is RELEASE.2026-08-04T00-00-00Z)`,
    reason:
      "The MinIO community image is no longer published (Docker Hub repos deleted 2026-09). Loki's Helm chart 7.3.0 switched to exactly this image to fix an unpatched MinIO CVE [S grafana/loki production/helm/loki/CHANGELOG.md].",
  },
  mc: {
    repository: 'pgsty/mc',
    tag: 'RELEASE.2026-03-13T08-57-32Z',
    noDigest: `${PIN_REVIEW} §8 cites pgsty/mc:RELEASE.2026-03-13T08-57-32Z by tag only; the pgsty/mc digests found in public repositories belong to other tags (cfc83108… is RELEASE.2026-09-16T00-00-00Z)`,
    reason: 'The client paired with pgsty/minio in the Loki Helm chart 7.3.0 [S]; used by the one-shot bucket job.',
  },
  seaweedfs: {
    repository: 'chrislusf/seaweedfs',
    tag: '4.43',
    digest: 'sha256:4d5118c198a6b9c0470c04b1822a0671459301625d995d1764c352bb553b3160',
    digestSource: `${PIN_REVIEW} §9: pinned for chrislusf/seaweedfs:4.43 by several independent scripts [3P]`,
    reason:
      "Apache-2.0 S3 store recommended by the Tempo 3 docs for local testing [S tempo s3.md@v3.0.3]. Tag 4.43 (2026-08-21) read upstream [S seaweedfs/seaweedfs@4.43: weed/command/mini.go has every flag the model passes; .github/workflows/container_release_unified.yml copies each release tag to Docker Hub as chrislusf/seaweedfs:<tag>]; pinned by digest by third parties as chrislusf/seaweedfs:4.43@sha256:4d5118c198a6b9c0470c04b1822a0671459301625d995d1764c352bb553b3160 [3P]. Newer 4.44-4.48 only seen third-party.",
  },
  /** Node image for the kind runtime (kind create cluster --image); tag and digest from the kind v0.33.0 release notes. */
  kindNode: {
    repository: 'kindest/node',
    tag: 'v1.35.8',
    digest: 'sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0',
    digestSource: `kindest/node:v1.35.8 in the kind v0.33.0 release notes as quoted by several pinning repositories; ${PIN_REVIEW} §11`,
    reason:
      'Listed by kind v0.33.0 [3P: release notes as quoted by several pinning repos; STACK.md §1 gives the digest prefix 07b2536e]. Chosen over the release default v1.37.0: a mature patch (.8, not .0) of the oldest still-supported minor, closest to the kubectl clients people have and to the 1.30 API schemas our manifests are validated against. Node images work with the kind release that published them: use kind v0.33.0.',
  },
  /** Base image of the demo app, built locally. */
  node: {
    repository: 'node',
    tag: '20.20.2-bookworm-slim',
    digest: 'sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0',
    digestSource: `${PIN_REVIEW} §10: pinned for node:20.20.2-bookworm-slim by many repositories [3P]`,
    reason: 'Same Node major and minor as the supported runtime (engines >=20.19); slim Debian 12 base.',
  },
} as const satisfies Record<string, ImagePin>;

export type ImageKey = keyof typeof images;

/** `repository:tag@digest`, or `repository:tag` for a pin without digest evidence. */
export function imageRef(pin: ImagePin): string {
  return `${pin.repository}:${pin.tag}${pin.digest ? `@${pin.digest}` : ''}`;
}
