/**
 * Every image the stack runs, pinned, with the reason for the pin. The only place an image tag appears.
 * Evidence tiers follow shared/design/STACK.md §1: [S] read in the upstream repository, [D] upstream docs, [3P] third party.
 */
export interface ImagePin {
  repository: string;
  tag: string;
  /** Why this tag and not a newer one. */
  reason: string;
}

export const images = {
  grafana: {
    repository: 'grafana/grafana',
    tag: '13.2.0',
    reason:
      'Newest Grafana with upstream evidence [S docker-otel-lgtm v0.31.0 Dockerfile]. grafana/grafana (not -oss: frozen at 12.4). 13.2.1+ only seen in third-party pins.',
  },
  tempo: {
    repository: 'grafana/tempo',
    tag: '3.0.3',
    reason: 'Tag v3.0.3 read upstream [S]; matches shared/reference/tempo-3.0.3.json exactly. 3.1.0 only in third-party pins, changelog unread.',
  },
  loki: {
    repository: 'grafana/loki',
    tag: '3.7.6',
    reason:
      'Tag v3.7.6 read upstream [S]; matches shared/reference/loki-3.7.6.json. Stay on 3.7.x: main heads to Loki 4.0 with renamed S3 keys.',
  },
  mimir: {
    repository: 'grafana/mimir',
    tag: '3.0.2',
    reason:
      'The newest release whose full config tree we can check (shared/reference/mimir-3.0.2.json). 3.1.1 is newer [D changelog] but its added/removed keys cannot be verified here; bump together with the key tree.',
  },
  alloy: {
    repository: 'grafana/alloy',
    tag: 'v1.18.1',
    reason:
      'Released 2026-08-06 [S]; matches shared/reference/alloy-1.18.1-components.json. v1.19.0 was only an rc when read. Note the v prefix.',
  },
  obi: {
    repository: 'otel/ebpf-instrument',
    tag: 'v0.11.0',
    reason: 'Pinned by docker-otel-lgtm v0.31.0 [S]; Config v1 env vars used here are documented for it. v1.0.0 only seen third-party.',
  },
  /** The MinIO line: Silo, Pigsty's maintained MinIO fork, published as pgsty/minio (same CLI and on-disk format). */
  minio: {
    repository: 'pgsty/minio',
    tag: 'RELEASE.2026-03-14T12-00-00Z',
    reason:
      "The MinIO community image is no longer published (Docker Hub repos deleted 2026-09). Loki's Helm chart 7.3.0 switched to exactly this image to fix an unpatched MinIO CVE [S grafana/loki production/helm/loki/CHANGELOG.md].",
  },
  mc: {
    repository: 'pgsty/mc',
    tag: 'RELEASE.2026-03-13T08-57-32Z',
    reason: 'The client paired with pgsty/minio in the Loki Helm chart 7.3.0 [S]; used by the one-shot bucket job.',
  },
  seaweedfs: {
    repository: 'chrislusf/seaweedfs',
    tag: '4.43',
    reason:
      "Apache-2.0 S3 store recommended by the Tempo 3 docs for local testing [S tempo s3.md@v3.0.3]. Tag 4.43 (2026-08-21) read upstream [S seaweedfs/seaweedfs@4.43: weed/command/mini.go has every flag the model passes; .github/workflows/container_release_unified.yml copies each release tag to Docker Hub as chrislusf/seaweedfs:<tag>]; pinned by digest by third parties as chrislusf/seaweedfs:4.43@sha256:4d5118c198a6b9c0470c04b1822a0671459301625d995d1764c352bb553b3160 [3P]. Newer 4.44-4.48 only seen third-party.",
  },
  /** Node image for the kind runtime (kind create cluster --image); tag and digest from the kind v0.33.0 release notes. */
  kindNode: {
    repository: 'kindest/node',
    tag: 'v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0',
    reason:
      'Listed by kind v0.33.0 [3P: release notes as quoted by several pinning repos; STACK.md §1 gives the digest prefix 07b2536e]. Chosen over the release default v1.37.0: a mature patch (.8, not .0) of the oldest still-supported minor, closest to the kubectl clients people have and to the 1.30 API schemas our manifests are validated against. Node images work with the kind release that published them: use kind v0.33.0.',
  },
  /** Base image of the demo app, built locally. */
  node: {
    repository: 'node',
    tag: '20.20.2-bookworm-slim',
    reason: 'Same Node major and minor as the supported runtime (engines >=20.19); slim Debian 12 base.',
  },
} as const satisfies Record<string, ImagePin>;

export type ImageKey = keyof typeof images;

export function imageRef(pin: ImagePin): string {
  return `${pin.repository}:${pin.tag}`;
}
