/** The compose runtime's preflight (scripts/runtimes/compose/preflight.ts), against the fake engine of ./world.ts. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../scripts/lib/errors.js';
import { preflightError } from '../../../scripts/runtimes/preflight.js';
import { recordingExec } from '../../support/fake-exec.js';
import { createComposeRuntime } from '../../../scripts/runtimes/compose/index.js';
import { buildStack, type Stack } from '../../../scripts/stack/model.js';
import { fakeDocker, type FakeContainer } from '../fakes.js';
import { project, tempDir, localSocket } from './world.js';

describe('compose runtime: preflight', () => {
  /** Every published port held by a container: the project's own, except `squat`, which a stranger holds (no host socket is touched). */
  function engineHolding(stack: Stack, squat: string) {
    const containers: FakeContainer[] = stack.published.map((p, i) => {
      const key = `${p.component}.${p.name}`;
      const own = key !== squat;
      return { id: `c${i}`, name: own ? `${project}-${p.component}-${i}` : 'squatter', project: own ? project : 'other', service: p.component, state: 'running', ports: [{ private: p.containerPort, public: p.hostPort, ip: p.hostIp }] };
    });
    return fakeDocker({ containers, info: { OperatingSystem: 'Debian GNU/Linux 12', MemTotal: 16 * 1024 ** 3 }, version: { Version: '28.1.1', ApiVersion: '1.49' } });
  }

  it('runs every check (Docker, compose, config files, each port, memory, loopback isolation, disk) and blames the container holding a port', async () => {
    const stack = buildStack({ demo: false });
    const fd = engineHolding(stack, 'grafana.http');
    const exec = recordingExec({ 'docker compose version': { stdout: '2.26.1\n' } }, ['docker']);
    const rt = createComposeRuntime({ exec, env: { MOP_PROJECT: project, MOP_STATE_DIR: tempDir(), DOCKER_HOST: 'unix:///var/run/docker.sock' }, docker: fd.docker, platform: 'linux', freeBytes: async () => 500 * 1024 ** 3, hostProbe: localSocket });
    const checks = await rt.preflight(stack);
    expect(checks.map((c) => c.id)).toEqual(['docker', 'compose', 'config', 'port:grafana.http', 'memory', 'loopback', 'disk', 'docker-socket']);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['port:grafana.http']).toMatchObject({ ok: false, severity: 'error', detail: expect.stringMatching(/^127\.0\.0\.1:3000 \(grafana\.http\) is taken by .*squatter/) });
    for (const id of ['docker', 'compose', 'config', 'memory', 'loopback', 'disk']) expect(byId[id], id).toMatchObject({ ok: true });
    expect(preflightError(checks)).toMatchObject({ code: 'PORT_IN_USE', exitCode: ExitCode.preflight });
  });

  it('with every port free (held by its own project) reports one passed ports check', async () => {
    const stack = buildStack({ demo: false });
    const fd = engineHolding(stack, '');
    const exec = recordingExec({ 'docker compose version': { stdout: '2.26.1\n' } }, ['docker']);
    const rt = createComposeRuntime({ exec, env: { MOP_PROJECT: project, MOP_STATE_DIR: tempDir(), DOCKER_HOST: 'unix:///var/run/docker.sock' }, docker: fd.docker, platform: 'linux', freeBytes: async () => 500 * 1024 ** 3, hostProbe: localSocket });
    const checks = await rt.preflight(stack);
    expect(checks.map((c) => [c.id, c.ok])).toEqual([
      ['docker', true],
      ['compose', true],
      ['config', true],
      ['ports', true],
      ['memory', true],
      ['loopback', true],
      ['disk', true],
      ['docker-socket', true],
    ]);
  });
});
