/**
 * Engine tests: the compose runtime and the lifecycle commands against a real Docker engine, with stand-in images
 * (test/support/stand-ins.ts) set through the image-override feature; everything else (the rendered compose file,
 * health checks, depends_on, volumes, ports on 127.0.0.1) is the real thing. Every case asserts on engine state.
 * Cases run concurrently, each in its own compose project, state dir and host ports.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { engineUnavailable, standInImages } from '../support/stand-ins.js';
import { createSandbox, docker, execIn, spawnCli, type Sandbox } from './harness.js';

const why = engineUnavailable();
if (why) console.log(`engine tests (stand-in) skipped: ${why}`);

const sandboxes: Sandbox[] = [];
const tally = { ran: 0, passed: 0 };
/** An engine case: counted, so CI shows how many ran against the engine. */
function engineCase(name: string, fn: () => Promise<void>, timeout: number) {
  it(name, async () => {
    tally.ran++;
    await fn();
    tally.passed++;
  }, timeout);
}
async function sandbox(...args: Parameters<typeof createSandbox>) {
  const s = await createSandbox(...args);
  sandboxes.push(s);
  return s;
}

const running = async (s: Sandbox) => (await s.containers(false)).map((c) => c.Labels['com.docker.compose.service']).sort();
const starts = async (s: Sandbox, service: string, dir: string) => {
  const c = (await s.containers(false)).find((x) => x.Labels['com.docker.compose.service'] === service)!;
  return (await execIn(c.Id, ['cat', `${dir}/standin-starts`])).trim().split('\n').length;
};
const longRunning = ['alloy', 'demo', 'grafana', 'loki', 'mimir', 'store', 'tempo'];

describe.skipIf(Boolean(why)).concurrent('compose runtime on a real Docker engine (stand-in images)', () => {
  beforeAll(() => {
    // Build every stand-in variant once, before the cases race for them.
    standInImages({});
    standInImages({ tempo: { mode: 'never-ready' } });
    standInImages({ mimir: { mode: 'exit', exitCode: 7 } });
    standInImages({ tempo: { readyDelay: 60 } });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(sandboxes.map((s) => s.cleanup()));
    const version = (await docker.version().catch(() => ({ Version: '?' }))).Version;
    console.log(`engine tests (stand-in images, Docker Engine ${version}): ${tally.ran} ran, ${tally.passed} passed`);
  }, 120_000);

  engineCase('stand-in: up, then status, then up again (no duplicates, nothing changed), then down', async () => {
    const s = await sandbox('life');
    const up = await s.run('up', '--no-open', '--json');
    expect(up.code, JSON.stringify(up.json.error)).toBe(ExitCode.ok);
    expect(up.json).toMatchObject({ ok: true, alreadyRunning: false, runtime: 'compose', project: s.project });
    expect(up.json.components.map((c: { name: string }) => c.name)).toEqual(['store', 'buckets', 'tempo', 'mimir', 'loki', 'alloy', 'grafana', 'demo']);
    for (const c of up.json.components) expect(c.readySeconds, c.name).toBeGreaterThan(0);
    // Engine state: every long-running component runs, the bucket job completed, ports bound to 127.0.0.1 only.
    expect(await running(s)).toEqual(longRunning);
    const all = await s.containers();
    const buckets = all.find((c) => c.Labels['com.docker.compose.service'] === 'buckets')!;
    expect(buckets.State).toBe('exited');
    expect((await docker.getContainer(buckets.Id).inspect()).State.ExitCode).toBe(0);
    const grafana = all.find((c) => c.Labels['com.docker.compose.service'] === 'grafana')!;
    expect(grafana.Ports).toContainEqual(expect.objectContaining({ IP: '127.0.0.1', PrivatePort: 3000, PublicPort: s.hostPorts['grafana.http'] }));
    expect(grafana.Labels['com.mop-sandbox.component']).toBe('grafana');
    // Credentials: generated once, in a 0600 state file, passed as env, never written into the compose file.
    const state = JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8'));
    expect(statSync(join(s.stateDir, 'state.json')).mode & 0o777).toBe(0o600);
    const compose = readFileSync(join(s.stateDir, 'compose', 'docker-compose.yml'), 'utf8');
    expect(compose).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const env = (await docker.getContainer(grafana.Id).inspect()).Config.Env;
    expect(env).toContain(`GF_SECURITY_ADMIN_PASSWORD=${state.credentials.GRAFANA_ADMIN_PASSWORD}`);
    expect(up.stdout).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);

    const status = await s.run('status', '--json');
    expect(status.code).toBe(ExitCode.ok);
    expect(status.json).toMatchObject({ running: true, healthy: true });
    expect(status.json.components).toContainEqual({ name: 'grafana', state: 'running', health: 'healthy', url: `http://127.0.0.1:${s.hostPorts['grafana.http']}/` });
    expect(status.json.components).toContainEqual(expect.objectContaining({ name: 'buckets', state: 'completed' }));
    expect(JSON.stringify(status.json)).not.toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const secrets = await s.run('status', '--show-secrets');
    expect(secrets.stdout).toContain(state.credentials.GRAFANA_ADMIN_PASSWORD);
    const creds = await s.run('credentials', '--json');
    expect(creds.json.credentials).toMatchObject(state.credentials);

    const logs = await s.run('logs', 'tempo', '--tail', '20');
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('stand-in tempo: listening on');
    const open = await s.run('open', 'grafana', '--json');
    expect(open.json).toMatchObject({ component: 'grafana', url: `http://127.0.0.1:${s.hostPorts['grafana.http']}/`, opened: false });
    const doctor = await s.run('doctor', '--json');
    expect(doctor.code, JSON.stringify(doctor.json?.checks)).toBe(ExitCode.ok);

    // up again: prints the status, changes nothing.
    const ids = all.map((c) => c.Id).sort();
    const again = await s.run('up', '--no-open');
    expect(again.code).toBe(ExitCode.ok);
    expect(again.stdout).toContain('already running');
    expect((await s.containers()).map((c) => c.Id).sort()).toEqual(ids);

    const down = await s.run('down');
    expect(down.code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
    expect(await s.networks()).toEqual([]);
    expect((await s.volumes()).length).toBe(6);
    const after = await s.run('status');
    expect(after.code).toBe(ExitCode.failure);
    expect(after.stdout).toContain('not running');
  }, 240_000);

  engineCase('stand-in: data written before down is there after the next up; down --purge removes it', async () => {
    const s = await sandbox('data');
    const first = await s.run('up', '--no-open');
    expect(first.code, first.stderr).toBe(ExitCode.ok);
    expect(await starts(s, 'tempo', '/var/tempo')).toBe(1);
    const creds = JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8')).credentials;
    expect((await s.run('down')).code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);

    const second = await s.run('up', '--no-open');
    expect(second.code, second.stderr).toBe(ExitCode.ok);
    expect(await starts(s, 'tempo', '/var/tempo')).toBe(2); // same volume: the first start's line is still there
    expect(await starts(s, 'grafana', '/var/lib/grafana')).toBe(2);
    expect(JSON.parse(readFileSync(join(s.stateDir, 'state.json'), 'utf8')).credentials).toEqual(creds); // reused

    const purge = await s.run('down', '--purge');
    expect(purge.code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
    expect(await s.volumes()).toEqual([]);
    expect(await s.networks()).toEqual([]);
    expect(existsSync(join(s.stateDir, 'state.json'))).toBe(false);
    expect(existsSync(join(s.stateDir, 'compose'))).toBe(false);
  }, 240_000);

  engineCase('stand-in: down --purge with nothing running (and a broken state file) succeeds', async () => {
    const s = await sandbox('empty');
    // A broken state file must not stop a purge either.
    mkdirSync(s.stateDir, { recursive: true });
    writeFileSync(join(s.stateDir, 'state.json'), '{ not json');
    expect((await s.run('status')).code).toBe(ExitCode.failure);
    const r = await s.run('down', '--purge', '--json');
    expect(r.code).toBe(ExitCode.ok);
    expect(r.json).toMatchObject({ containers: 0, networks: 0, volumes: 0, stateRemoved: true });
    expect(await s.containers()).toEqual([]);
    expect(existsSync(join(s.stateDir, 'state.json'))).toBe(false);
  }, 60_000);

  engineCase('stand-in: a component that never becomes healthy is named with its log tail (exit 4)', async () => {
    const s = await sandbox('never', { tempo: { mode: 'never-ready' } });
    const r = await s.run('up', '--no-open', '--timeout', '45', '--json');
    expect(r.code, JSON.stringify(r.json.error)).toBe(ExitCode.notReady);
    expect(r.json.error).toMatchObject({ code: 'COMPONENT_TIMEOUT', exitCode: 4 });
    // On a loaded machine another component may still be starting at the deadline; tempo is always named.
    expect(r.json.error.what).toMatch(/^(\w+, )*tempo(, \w+)* not ready after 45s$/);
    expect(r.json.error.why).toContain('tempo: starting (HTTP 404 from /ready)');
    expect(r.json.error.details[0]).toMatch(/^last \d+ log lines of tempo/);
    expect(r.json.error.details.join('\n')).toContain('stand-in tempo: still not ready');
    expect(r.json.error.details.length).toBeLessThanOrEqual(51);
    expect(r.json.error.next).toMatch(/mop-sandbox logs tempo/);
    // The stack stays for inspection; `down` removes it.
    expect(await running(s)).toContain('tempo');
    expect((await s.run('down', '--purge')).code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
  }, 180_000);

  engineCase('stand-in: a component that exits is named at once, with its log tail (exit 4)', async () => {
    const s = await sandbox('exits', { mimir: { mode: 'exit', exitCode: 7 } });
    const r = await s.run('up', '--no-open', '--timeout', '170', '--json');
    expect(r.code, JSON.stringify(r.json.error)).toBe(ExitCode.notReady);
    // COMPONENT_FAILED, not COMPONENT_TIMEOUT: the wait stopped at the crash, not at the deadline.
    expect(r.json.error.code).toBe('COMPONENT_FAILED');
    expect(r.json.error.what).toMatch(/^mimir (exited with code 7|keeps crashing \(restarted \d+ times)/);
    expect(r.json.error.details.join('\n')).toContain('stand-in mimir: error: failing on purpose');
    expect(r.json.error.next).toMatch(/^read the log lines above/);
    expect((await s.run('down')).code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
  }, 180_000);

  engineCase('stand-in: a host port taken by another container is named, and nothing is created (exit 3)', async () => {
    const s = await sandbox('port');
    const squatter = `${s.project}-squatter`;
    const c = await docker.createContainer({
      name: squatter,
      Image: s.images.grafana,
      ExposedPorts: { '3000/tcp': {} },
      HostConfig: { PortBindings: { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: String(s.hostPorts['grafana.http']) }] } },
    });
    try {
      await c.start();
      const r = await s.run('up', '--no-open', '--json');
      expect(r.code, JSON.stringify(r.json.error)).toBe(ExitCode.preflight);
      expect(r.json.error).toMatchObject({ code: 'PORT_IN_USE', what: `127.0.0.1:${s.hostPorts['grafana.http']} (grafana.http) is taken by container "${squatter}"` });
      expect(r.json.error.next).toContain(`docker stop ${squatter}`);
      expect(await s.containers()).toEqual([]);
      expect(await s.networks()).toEqual([]);
      expect(await s.volumes()).toEqual([]);
      expect(existsSync(join(s.stateDir, 'state.json'))).toBe(false);
    } finally {
      await c.remove({ force: true });
    }
  }, 60_000);

  engineCase('stand-in: Docker unreachable gives a clear error (exit 3)', async () => {
    const s = await sandbox('nodocker', {}, { DOCKER_HOST: 'unix:///tmp/mop-no-such-docker.sock' });
    const r = await s.run('up', '--no-open');
    expect(r.code).toBe(ExitCode.preflight);
    expect(r.stderr).toContain('error: Docker is not reachable at unix:///tmp/mop-no-such-docker.sock (from DOCKER_HOST)');
    expect(r.stderr).toMatch(/next: .*unset DOCKER_HOST/);
    const down = await s.run('down', '--json');
    expect(down.code).toBe(ExitCode.preflight);
    expect(down.json.error.code).toBe('DOCKER_UNREACHABLE');
  }, 60_000);

  engineCase('stand-in: SIGINT during up stops cleanly, and nothing is left after down (exit 130)', async () => {
    const s = await sandbox('sigint', { tempo: { readyDelay: 60 } });
    const cli = spawnCli(['up', '--no-open'], s.env);
    // Interrupt while waiting: containers exist, tempo is not ready.
    const deadline = Date.now() + 90_000;
    while ((await running(s)).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect((await s.containers()).length).toBeGreaterThan(0);
    process.kill(-cli.child.pid!, 'SIGINT'); // the whole process group, as a terminal's Ctrl-C does
    const r = await cli.done;
    expect(r.code, cli.output()).toBe(ExitCode.interrupted);
    expect(r.stderr).toContain('error: interrupted');
    expect(await s.containers()).toEqual([]);
    expect((await s.run('down')).code).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
    expect(await s.networks()).toEqual([]);
    expect((await s.run('down', '--purge')).code).toBe(ExitCode.ok);
    expect(await s.volumes()).toEqual([]);
  }, 180_000);
});
