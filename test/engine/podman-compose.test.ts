/**
 * Podman users' other compose: podman-compose (Debian's 1.0.3), for real. Two ways it reaches `docker compose` on a
 * Podman machine: Podman 4.7+ runs it as the `podman compose` provider behind the podman-docker shim (emulated here
 * with a `docker` script that hands `compose` to podman-compose, the rest to podman), and Podman < 4.7 behind the
 * shim has no `compose` at all (Debian's podman 4.3, run as is). In both, `up` must refuse before creating anything
 * and tell a Podman user how to get compose v2. The last case runs podman-compose itself on the rendered file: it
 * cannot run the stack, which is why preflight refuses it (if a later podman-compose can, this case says so).
 * The compose v2 cases on Podman are in compose.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { podmanUnavailable, startPodman, type PodmanService } from '../support/podman-service.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable, imageEnv, standInImages } from '../support/stand-ins.js';
import { createSandbox, type Sandbox } from './harness.js';

const why =
  engineUnavailable() ??
  podmanUnavailable() ??
  (spawnSync('sh', ['-c', 'command -v podman-compose']).status !== 0 ? 'podman-compose is not installed (apt-get install podman-compose)' : undefined);
skipGroup('podman-compose tests', why, { requiredInCI: true });

describe.skipIf(Boolean(why)).sequential('podman-compose (Debian 1.0.3) on Podman (stand-in images)', () => {
  let podman: PodmanService;
  const dirs: string[] = [];
  const sandboxes: Sandbox[] = [];

  /** A PATH whose `docker` is the given script (as the podman-docker package installs one), then the usual PATH. */
  function shimPath(script: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'mop-docker-shim-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'docker'), script);
    chmodSync(join(dir, 'docker'), 0o755);
    return `${dir}:${process.env.PATH}`;
  }

  async function refusedUp(script: string) {
    const env = { PATH: shimPath(script), CONTAINERS_CONF: podman.containersConf };
    const s = await createSandbox('pcompose', {}, env, { host: podman.host, docker: podman.docker });
    sandboxes.push(s);
    const up = await s.run('up', '--no-open', '--json');
    return { s, up };
  }

  beforeAll(async () => {
    podman = await startPodman();
    standInImages({}, undefined, podman.host);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.cleanup()));
    await podman?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }, 120_000);

  it('`docker compose` answered by podman-compose (Podman 4.7+ provider): up refuses with the Podman advice, exit 3, nothing created', async () => {
    const { s, up } = await refusedUp('#!/bin/sh\nif [ "$1" = compose ]; then shift; exec podman-compose "$@"; fi\nexec podman "$@"\n');
    expect(up.code).toBe(ExitCode.preflight);
    expect(up.json.error).toMatchObject({ code: 'COMPOSE_MISSING', what: expect.stringContaining('runs podman-compose, which is not compose v2') });
    expect(up.json.error.next).toContain('PODMAN_COMPOSE_PROVIDER');
    expect(await s.containers()).toEqual([]);
    expect(await s.volumes()).toEqual([]);
  }, 120_000);

  it('the podman-docker shim on Podman 4.3 (no `podman compose`): up refuses, says so and how to get compose v2', async () => {
    const { s, up } = await refusedUp('#!/bin/sh\nexec podman "$@"\n');
    expect(up.code).toBe(ExitCode.preflight);
    expect(up.json.error.what).toContain('`docker` is Podman');
    expect(up.json.error.next).toContain('docker-compose-plugin');
    expect(await s.containers()).toEqual([]);
  }, 120_000);

  it('podman-compose cannot run the rendered stack (why preflight refuses it)', async () => {
    const s = await createSandbox('pcrender', {}, {}, { host: podman.host, docker: podman.docker });
    sandboxes.push(s);
    const out = join(s.stateDir, '..', 'render');
    const render = await s.run('render', '--runtime', 'compose', '--out', out);
    expect(render.code, render.stderr).toBe(ExitCode.ok);
    const env = { ...process.env, ...imageEnv(s.images), CONTAINERS_CONF: podman.containersConf, CONTAINER_HOST: podman.host };
    const up = spawnSync('podman-compose', ['-p', s.project, '-f', join(out, 'docker-compose.yml'), 'up', '-d'], { cwd: out, env, encoding: 'utf8', timeout: 180_000 });
    const text = `${up.stdout}\n${up.stderr}`;
    console.log(`podman-compose up on the rendered file: exit ${up.status}; last lines:\n${text.trim().split('\n').slice(-3).join('\n')}`);
    // 1.0.3 turns a service's `networks` mapping into "name=value" strings (podman_compose.py norm_as_list), so
    // `docker-api: {}` on Alloy and the socket proxy does not count as using that network, and it stops while parsing
    // the file, before creating anything ("missing networks", _parse_compose_file). Before the socket proxy's network
    // it stopped later, at the first service with a network alias ('cannot set multiple networks without bridge network mode').
    expect(up.status).not.toBe(0);
    expect(text).toContain('RuntimeError: missing networks: docker-api');
    spawnSync('podman-compose', ['-p', s.project, '-f', join(out, 'docker-compose.yml'), 'down', '-v'], { cwd: out, env, timeout: 120_000 });
  }, 240_000);
});
