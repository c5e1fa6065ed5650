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
  /**
   * The upstream config key tree (../shared/reference) the component's config is checked against, when the
   * pinned patch release has no tree of its own; the reason says why that tree holds for this tag.
   */
  keyTree?: string;
}

const PIN_REVIEW = 'shared/reviews/review-pins-2026-11-29.md';

export const images = {
  grafana: {
    repository: 'grafana/grafana',
    tag: '13.2.0',
    digest: 'sha256:3fd54ae1214669f8355f065ec9f6445d5279a3d77095ab048ca045685272429b',
    digestSource: `${PIN_REVIEW} §1: the same digest pinned for grafana/grafana:13.2.0 by two unrelated repositories [3P]`,
    reason:
      'grafana/docker-otel-lgtm main@155e1863 (2026-08-21, Renovate "update dependency grafana to v13.2.0") [S], after its v0.31.0 tag, which still has 13.1.3; pinned by digest sha256:3fd54ae1… by two unrelated repositories [3P]. grafana/grafana, not grafana-oss (no images from 12.4 on). 13.2.1+ only seen in third-party pins.',
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
    tag: '3.7.7',
    digest: 'sha256:d70e4659623f3e109af669cae76fe2a5dd5be54e2298fe8aed380d982fbc2500',
    digestSource: `pinned for grafana/loki:3.7.7 by at least eight unrelated repositories (Dockerfiles, Nix, compose, Makefiles), third-party pins found by public code search on 2026-11-29 [3P]; the tag itself: ${PIN_REVIEW} §3 covers 3.7.6 only`,
    reason:
      'Newest 3.7 patch: v3.7.7 released 2026-08-27, grafana/loki:3.7.7@sha256:d70e4659… pinned by third parties [3P]. Stay on 3.7.x: main heads to Loki 4.0 with renamed S3 keys.',
    keyTree:
      'loki-3.7.6.json: release-3.7.x after v3.7.6 (grafana/loki, 35 commits to 2026-08-22) changes no config key: docs/sources/shared/configuration.md is unchanged and no Go yaml tag changed; only security dependency updates and docs [S].',
  },
  mimir: {
    repository: 'grafana/mimir',
    tag: '3.0.6',
    noDigest: `${PIN_REVIEW} covers grafana/mimir:3.0.2; grafana/mimir:3.0.6 (issue 11 moved the tag) has no digest reviewed under this rule yet`,
    reason:
      'A maintained 3.0 patch: 3.0.2 lacks the Go security fixes of later 3.0.x releases (each 3.0.x patch is a Go/dependency CVE backport, e.g. 3.0.2 itself: "Update to Go v1.25.5 to address CVE-2025-61729" [S CHANGELOG]). grafana/mimir:3.0.6 pinned by independent third parties [3P]; 3.0.7/3.0.8 only referenced by PR number. 3.1/3.2 add and remove keys no tree here covers.',
    keyTree:
      'mimir-3.0.2.json: the newest Mimir tree (config-descriptor.json at mimir-3.0.2); ../shared/reference/README.md: "Pin Mimir 3.0.x to match it exactly" (patch releases carry fixes, not config keys).',
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
  /**
   * The MinIO line: Silo, Pigsty's maintained MinIO fork (same S3 API, MINIO_* settings and on-disk format). Renamed from
   * pgsty/minio to pgsty/silo on 2026-08-06; pgsty/minio is frozen and gets no fixes.
   */
  minio: {
    repository: 'pgsty/silo',
    tag: 'RELEASE.2026-09-16T00-00-00Z',
    digest: 'sha256:635197cb9f36d01bee221d34d1c7d7960f6a95c48b0b6c01d99cd13bdae51a46',
    digestSource: `pinned for pgsty/silo:RELEASE.2026-09-16T00-00-00Z by at least six unrelated repositories (test harnesses, ADRs, compose), third-party pins found by public code search on 2026-11-29 [3P]`,
    reason:
      'The MinIO community image is no longer published (Docker Hub repositories deleted 2026-09). Silo ships fixes only as pgsty/silo (.github/workflows/docker-release.yml pushes pgsty/silo:<RELEASE tag>, amd64 and arm64 [S pgsty/silo]); this release fixes CVE-2026-40344 and CVE-2026-41145 and is pinned by digest by third parties (sha256:635197cb…) with `server /data --console-address :9001` and /minio/health/* [3P]. The entrypoint still accepts `server …` and MINIO_ROOT_USER/PASSWORD [S pgsty/silo docs/upgrade/single-node-from-archived-minio.md, Dockerfile.goreleaser].',
  },
  mc: {
    repository: 'pgsty/mc',
    tag: 'RELEASE.2026-09-16T00-00-00Z',
    digest: 'sha256:cfc83108c3abb371f8fb84d99c1fdc88f8c237e022409b0081fb7c0a3be634dd',
    digestSource: `pinned for pgsty/mc:RELEASE.2026-09-16T00-00-00Z by at least eight unrelated repositories (backup scripts, test harnesses, Dockerfiles, compose), third-party pins found by public code search on 2026-11-29 [3P]; ${PIN_REVIEW} §8 reviewed RELEASE.2026-03-13T08-57-32Z, for which no digest is pinned anywhere`,
    reason:
      'The client release of the Silo server we run (pgsty/silo:RELEASE.2026-09-16T00-00-00Z), the only pgsty/mc tag with digest evidence. Released images are ubi9-micro with /usr/bin/mc (pgsty/mc Dockerfile.goreleaser at the 2026-08-06 release [S]), so /bin/sh, stat and chown are there for the bucket job and the ownership step; this tag is run as `--entrypoint /bin/sh` / `entrypoint: [sh, -c, "until mc alias set …; mc mb --ignore-existing …"]` by third parties [3P]. alias set, mb, admin user add/info and admin policy create/attach are unchanged from 2026-03-13 to 2026-08-06 except help text [S pgsty/mc cmd/].',
  },
  seaweedfs: {
    repository: 'chrislusf/seaweedfs',
    tag: '4.44',
    digest: 'sha256:e67e8c385484120b78bff47ba5f4debbca47fbd27ed1a39f016f47e8baea615b',
    digestSource: `pinned for chrislusf/seaweedfs:4.44 by at least five unrelated repositories, third-party pins found by public code search on 2026-11-29 [3P]; one other repository pins c927ea07…, probably one platform's digest`,
    reason:
      "Apache-2.0 S3 store recommended by the Tempo 3 docs for local testing [S tempo s3.md@v3.0.3]. Tag 4.44 (2026-08-22) read upstream [S seaweedfs/seaweedfs@4.44: weed/command/mini.go has every flag the model passes, unchanged since 4.43; weed/s3api/auth_credentials.go still reads AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; container_release_unified.yml copies each release tag to Docker Hub as chrislusf/seaweedfs:<tag>]. 4.45-4.48 only seen third-party, their flags unread.",
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
    tag: '24.19.0-trixie-slim',
    reason:
      'Node 24, the Active LTS (supported to 2028-04-30), on Debian 13: nodejs/docker-node@f27d936f 24/trixie-slim/Dockerfile has NODE_VERSION=24.19.0 [S]. Node 20 reached end of life on 2026-04-30 and its last image (20.20.2) is never rebuilt. Only the demo image runs on it: the CLI keeps supporting the Node its package.json declares (engines >=20.19).',
    digest: 'sha256:0711b541c1c33a8a530ac4f0d391baa9a15b3d804695b1b24a47daa5fb60e74d',
    digestSource: `pinned for node:24.19.0-trixie-slim by at least seven unrelated repositories, third-party pins found by public code search on 2026-11-29 [3P]; two others pin ab3eebe9…, an earlier build of the same tag (official Node images are rebuilt for base-image fixes), so this is the newer, more widely pinned one`,
  },
} as const satisfies Record<string, ImagePin>;

export type ImageKey = keyof typeof images;

export interface PluginPin {
  id: string;
  version: string;
  reason: string;
}

/**
 * Grafana app plugins installed at Grafana's start (config/grafana/start.sh), not through Grafana's preinstall,
 * which would also replace the bundled datasources. Their plugin.json grafanaDependency admits Grafana 13.2
 * (logs-drilldown ">=12.2.5", traces-drilldown ">=11.3.0" on their main branches [S]); all three are autoEnabled and
 * open only for users with datasources:explore (hence GF_USERS_VIEWERS_CAN_EDIT for anonymous Viewers).
 */
export const grafanaPlugins: PluginPin[] = [
  {
    id: 'grafana-lokiexplore-app',
    version: '2.5.2',
    reason: 'Logs Drilldown (uses Loki patterns and detected_level). 2.5.2 installed together with Grafana 13 by third parties [3P]; grafana/logs-drilldown src/plugin.json: autoEnabled, grafanaDependency >=12.2.5 [S].',
  },
  {
    id: 'grafana-exploretraces-app',
    version: '2.2.0',
    reason:
      'Traces Drilldown (uses Tempo TraceQL metrics). 2.2.0 in the same third-party Grafana 13 plugin list as Logs Drilldown 2.5.2 [3P]; 2.1.0 verified with Grafana 12.2.9 by another [3P].',
  },
  {
    id: 'grafana-metricsdrilldown-app',
    version: '2.5.1',
    reason: 'Metrics Drilldown. 2.5.1 in the same third-party Grafana 13 plugin list as Logs Drilldown 2.5.2 [3P].',
  },
];

/** `repository:tag@digest`, or `repository:tag` for a pin without digest evidence. */
export function imageRef(pin: ImagePin): string {
  return `${pin.repository}:${pin.tag}${pin.digest ? `@${pin.digest}` : ''}`;
}
