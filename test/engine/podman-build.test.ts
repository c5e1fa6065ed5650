/**
 * The demo image on Podman, for real: compose's default BuildKit build cannot run against Podman's API (Podman serves
 * no BuildKit), and the classic builder, which `up` selects there (DOCKER_BUILDKIT=0, scripts/runtimes/compose/
 * images.ts), builds the demo's real Dockerfile. The base image is the stand-in Node image (test/support/
 * node-stand-in.ts: no registry here), copied from the shared dockerd into Podman with `docker save | docker load`.
 */
import { execSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeStandIn, nodeStandInUnavailable } from '../support/node-stand-in.js';
import { podmanUnavailable, startPodman, type PodmanService } from '../support/podman-service.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { repoRoot } from './harness.js';

const why = engineUnavailable() ?? podmanUnavailable() ?? nodeStandInUnavailable(join(repoRoot, 'demo-app', 'package-lock.json'));
skipGroup('demo build on Podman', why, { requiredInCI: true });

describe.skipIf(Boolean(why))('the demo image on Podman (stand-in Node base image)', () => {
  let podman: PodmanService;
  let base: string;
  const dir = mkdtempSync(join(tmpdir(), 'mop-podman-build-'));
  const tag = `mop-podman-demo:${process.pid}`;

  beforeAll(async () => {
    podman = await startPodman();
    base = nodeStandIn(join(repoRoot, 'demo-app', 'package-lock.json'));
    execSync(`docker save ${base} | DOCKER_HOST=${podman.host} docker load`, { stdio: 'pipe' });
  }, 300_000);

  afterAll(async () => {
    if (podman) {
      // The base stays (cached like the stand-ins: another run on this machine may be building from it).
      spawnSync('docker', ['rmi', '-f', tag], { env: { ...process.env, DOCKER_HOST: podman.host } });
      await podman.stop();
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('compose builds the demo with the classic builder (DOCKER_BUILDKIT=0), not with its default BuildKit', () => {
    // The model's build (context: the package root, dockerfile: demo-app/Dockerfile) with the stand-in base image.
    const file = join(dir, 'compose.yml');
    writeFileSync(file, JSON.stringify({ services: { demo: { image: tag, build: { context: repoRoot, dockerfile: 'demo-app/Dockerfile', args: { NODE_IMAGE: base }, network: 'none' } } } }));
    const build = (extra: NodeJS.ProcessEnv) =>
      spawnSync('docker', ['compose', '-p', `mop-podman-build-${process.pid}`, '-f', file, 'build', 'demo'], {
        env: { ...process.env, DOCKER_HOST: podman.host, ...extra },
        encoding: 'utf8',
        timeout: 240_000,
      });
    const buildkit = build({});
    expect(buildkit.status, 'BuildKit against Podman').not.toBe(0);
    expect(buildkit.stdout + buildkit.stderr).toMatch(/buildkit/i);
    const classic = build({ DOCKER_BUILDKIT: '0' });
    expect(classic.status, classic.stdout + classic.stderr).toBe(0);
    // The image runs: its telemetry preload loads (as the packed-package test checks on dockerd).
    const run = spawnSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'node', tag, '--import', './demo-app/telemetry/register.js', '-e', 'console.log("loaded")'], {
      env: { ...process.env, DOCKER_HOST: podman.host },
      encoding: 'utf8',
    });
    expect(run.stdout + run.stderr).toContain('loaded');
  }, 300_000);
});
