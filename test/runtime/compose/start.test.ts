/** `up`'s start stage on compose (scripts/runtimes/compose/start.ts): the compose file and `compose up`; against the fake engine of ./world.ts. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configDir, packageRoot } from '../../../scripts/lib/paths.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { credentials, project, hostPortOf, world, composeCalls } from './world.js';

describe('compose runtime: up', () => {
  it('renders, starts with compose v2 and waits for every component; secrets only in the process env', async () => {
    const w = world({});
    const ready = await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(Object.keys(ready).sort()).toEqual(w.stack.components.map((c) => c.name).sort());
    expect(composeCalls(w.exec)).toEqual(['up -d --no-build --pull never --remove-orphans']);
    const up = w.exec.calls.find((c) => c.args[5] === 'up')!;
    expect(up.args.slice(0, 5)).toEqual(['compose', '-p', project, '-f', join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml')]);
    expect(up.env).toMatchObject({ MOP_GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', MOP_S3_SECRET_ACCESS_KEY: 'sk-secret-2' });
    const file = readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8');
    expect(file).toContain('name: unit');
    expect(file).toContain('${MOP_GRAFANA_ADMIN_PASSWORD');
    expect(file).not.toContain('pw-secret-1');
    expect(file).not.toContain('start_interval');
    // Readiness is probed on the published host port, at the model's path.
    expect(w.probes).toContain(`http://127.0.0.1:${hostPortOf(w.stack, 'tempo', 3200)}/ready`);
    const text = w.cap.text();
    expect(text).toMatch(/✓ tempo\s+ready in \d+\.\ds/);
    expect(text).toMatch(/✓ buckets\s+created tempo, mimir, loki, loki-ruler in/);
    expect(text).toContain('images: all');
  });

  it('mounts configs and dashboards from copies in the state directory, never from the package folder', async () => {
    const w = world({});
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    const file = join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml');
    const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, { volumes?: { type: string; source: string }[] }> };
    const binds = Object.values(doc.services).flatMap((s) => (s.volumes ?? []).filter((v) => v.type === 'bind').map((v) => v.source));
    const fromFiles = binds.filter((b) => b !== '/var/run/docker.sock');
    expect(fromFiles.length).toBeGreaterThan(5);
    for (const source of fromFiles) {
      // compose resolves a relative source against the compose file's folder.
      const abs = resolve(dirname(file), source);
      expect(relative(packageRoot, abs).startsWith('..'), `${source} is under the package root`).toBe(true);
      expect(relative(join(w.env.MOP_STATE_DIR, 'compose'), abs).startsWith('..'), `${source} is outside the state directory`).toBe(false);
      expect(existsSync(abs), `${abs} was not written`).toBe(true);
    }
    // The copies are the package's files, byte for byte; the credentials stay out of the folder (no .env).
    expect(readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'config/tempo/tempo.yaml'), 'utf8')).toBe(readFileSync(join(configDir, 'tempo/tempo.yaml'), 'utf8'));
    expect(existsSync(join(w.env.MOP_STATE_DIR, 'compose', '.env'))).toBe(false);
  });

  it('adds healthcheck.start_interval on Engine 25+ (API 1.44)', async () => {
    const w = world({ apiVersion: '1.44' });
    await w.runtime.up(w.stack, { credentials, signal: new AbortController().signal, out: w.out });
    expect(readFileSync(join(w.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8')).toContain('start_interval: 1s');
  });

  it('on Podman: builds with the classic builder (DOCKER_BUILDKIT=0), mounts Podman\'s socket, labels off; on dockerd: BuildKit as configured', async () => {
    const stack = buildStack({ demo: true });
    const present = stack.components.filter((c) => c.name !== 'demo').map((c) => c.image);
    const sock = '/run/user/1000/podman/podman.sock';
    const podman = world({
      stack,
      images: present,
      engine: {
        info: { Rootless: true, SecurityOptions: ['name=seccomp,profile=default', 'name=rootless'], CgroupVersion: '2' },
        version: { Components: [{ Name: 'Podman Engine', Version: '4.9.3' }] },
        dockerHost: `unix://${sock}`,
        hostProbe: { socketKind: (p) => (p === sock ? 'socket' : 'missing'), delegatedControllers: () => ['memory', 'pids'], uid: 1000 },
      },
    });
    await podman.runtime.up(podman.stack, { credentials, signal: new AbortController().signal, out: podman.out });
    const build = podman.exec.calls.find((c) => c.args.includes('build'))!;
    expect(build.env?.DOCKER_BUILDKIT).toBe('0');
    const file = readFileSync(join(podman.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8');
    expect(file).toContain(`source: ${sock}`);
    expect(file).toContain('label=disable');
    expect(file).not.toMatch(/cpus:/);
    const checks = await podman.runtime.preflight(podman.stack);
    expect(checks.find((c) => c.id === 'cpu-limits')).toMatchObject({ ok: false, severity: 'warn' });
    expect(checks.find((c) => c.id === 'docker-socket')).toMatchObject({
      ok: true,
      detail: `${sock} (the engine's own socket); the socket proxy reads it as root: the socket's group on Podman cannot be given to a container user; Alloy gets only the proxy's read-only calls`,
    });

    const dockerd = world({ stack, images: present });
    await dockerd.runtime.up(dockerd.stack, { credentials, signal: new AbortController().signal, out: dockerd.out });
    expect(dockerd.exec.calls.find((c) => c.args.includes('build'))!.env?.DOCKER_BUILDKIT).toBeUndefined();
    expect(readFileSync(join(dockerd.env.MOP_STATE_DIR, 'compose', 'docker-compose.yml'), 'utf8')).not.toContain('label=disable');
  });
});
