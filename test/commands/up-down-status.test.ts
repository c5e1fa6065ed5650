/**
 * `up`, `down` and `status` through the CLI's runner (scripts/run.ts) with strict fake runtimes: no Docker, and any
 * runtime call or program the test did not script fails the test.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../scripts/run.js';
import { UserError, ExitCode } from '../../scripts/lib/errors.js';
import { secretNames } from '../../scripts/stack/model.js';
import type { Sink } from '../../scripts/lib/output.js';
import type { ComponentStatus, PreflightCheck } from '../../scripts/runtimes/runtime.js';
import { fakeRuntime, fakeRuntimes, noExec, type FakeRuntime } from '../support/fake-runtime.js';

let dir: string;
let env: NodeJS.ProcessEnv;
let checks: { unexpected: string[] }[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mop-cmd-'));
  env = { CI: '1', MOP_STATE_DIR: join(dir, 'state'), XDG_CONFIG_HOME: join(dir, 'config'), HOME: dir, PATH: process.env.PATH };
  checks = [];
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  // Like supabase's apitest.ListUnmatchedRequests: a call nobody scripted fails the test even if the command coped.
  expect(checks.flatMap((c) => c.unexpected)).toEqual([]);
});

const stateFile = () => join(env.MOP_STATE_DIR!, 'state.json');
const readState = () => JSON.parse(readFileSync(stateFile(), 'utf8'));

async function run(argv: string[], runtimes: Partial<Record<'compose' | 'kind', FakeRuntime>>, signal?: AbortSignal) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const sink: Sink = { out: (t) => stdout.push(t), err: (t) => stderr.push(t), isTTY: false };
  const provider = fakeRuntimes(runtimes);
  const exec = noExec();
  checks.push(provider, exec, ...Object.values(runtimes));
  const code = await runCli(argv, { env, sink, exec, runtimes: provider, signal });
  const out = stdout.join('');
  return { code, stdout: out, stderr: stderr.join(''), json: argv.includes('--json') ? JSON.parse(out) : undefined };
}

const passing: PreflightCheck[] = [{ id: 'docker', title: 'Docker', ok: true, severity: 'error', detail: 'Docker Engine 27 (fake)' }];
const healthy = (...names: string[]): ComponentStatus[] => names.map((name) => ({ name: name as ComponentStatus['name'], state: 'running', health: 'healthy' }));

describe('up', () => {
  it('from nothing: preflight, then status, then runtime.up; records the runtime before starting it; one JSON document', async () => {
    let activeAtUp: unknown;
    const rt = fakeRuntime('compose', {
      preflight: async () => passing,
      status: async () => [],
      keptData: async () => [],
      up: async (_stack, ctx) => {
        activeAtUp = readState().active;
        expect(ctx.credentials.GRAFANA_ADMIN_PASSWORD).toMatch(/.{16,}/);
        return { store: 1, tempo: 2, grafana: 3 };
      },
    });
    const r = await run(['up', '--json'], { compose: rt });
    expect(r.code).toBe(0);
    expect(rt.calls).toEqual(['preflight', 'status', 'keptData', 'up']);
    expect(activeAtUp).toMatchObject({ runtime: 'compose', profile: 'default', project: 'mop-test' });
    expect(r.json).toMatchObject({ ok: true, exitCode: 0, alreadyRunning: false, runtime: 'compose', project: 'mop-test', profile: 'default' });
    expect(r.json.grafana).toMatchObject({ user: 'admin', url: 'http://127.0.0.1:3000/' });
    expect(JSON.stringify(r.json)).not.toContain(readState().credentials.GRAFANA_ADMIN_PASSWORD);
  });

  it('already running and healthy: prints the status, writes nothing, never calls runtime.up', async () => {
    const rt = fakeRuntime('compose', { preflight: async () => passing, status: async () => healthy('store', 'tempo') });
    const r = await run(['up'], { compose: rt });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('already running');
    expect(existsSync(stateFile())).toBe(false);
  });

  it('a failed preflight check: exit 3, nothing created (no status, no up, no state file)', async () => {
    const rt = fakeRuntime('compose', {
      preflight: async () => [{ id: 'port-grafana-http', title: 'port 3000', ok: false, severity: 'error', detail: 'port 3000 is taken by nginx', fix: 'stop nginx' }],
    });
    const r = await run(['up', '--json'], { compose: rt });
    expect(r.code).toBe(ExitCode.preflight);
    expect(r.json.error).toMatchObject({ code: 'PORT_IN_USE', what: 'port 3000 is taken by nginx' });
    expect(rt.calls).toEqual(['preflight']);
    expect(existsSync(stateFile())).toBe(false);
  });

  it('Ctrl-C while the runtime starts: exit 130 and the state no longer says the stack is up', async () => {
    const ctl = new AbortController();
    const rt = fakeRuntime('compose', {
      preflight: async () => passing,
      status: async () => [],
      keptData: async () => [],
      up: async () => {
        ctl.abort(new Error('interrupted'));
        throw new UserError({ what: 'interrupted', exitCode: ExitCode.interrupted, code: 'INTERRUPTED' });
      },
    });
    const r = await run(['up'], { compose: rt }, ctl.signal);
    expect(r.code).toBe(130);
    expect(readState().active).toBeUndefined();
    // The credentials generated for this `up` are kept (the next `up` reuses them): every secret, none empty.
    const kept = readState().credentials as Record<string, string>;
    expect(Object.keys(kept).sort()).toEqual([...secretNames].sort());
    expect(Object.entries(kept).filter(([, v]) => !v)).toEqual([]);
  });

  it('data kept from an earlier up but no state file: exit 3 STATE_LOST, no new credentials, runtime.up never called (review F13)', async () => {
    const rt = fakeRuntime('compose', {
      preflight: async () => passing,
      status: async () => [],
      keptData: async () => ['volume mop-test_grafana-data', 'volume mop-test_loki-data'],
    });
    const r = await run(['up', '--json'], { compose: rt });
    expect(r.code).toBe(ExitCode.preflight);
    expect(r.json.error).toMatchObject({ code: 'STATE_LOST' });
    expect(r.json.error.why).toContain('volume mop-test_grafana-data');
    expect(r.json.error.next).toContain(stateFile());
    expect(rt.calls).toEqual(['preflight', 'status', 'keptData']);
    expect(existsSync(stateFile())).toBe(false);
  });

  it('with a state file the kept data is not asked about: its credentials are the ones the data was given', async () => {
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true, mode: 0o700 });
    const first = fakeRuntime('compose', { preflight: async () => passing, status: async () => [], keptData: async () => [], up: async () => ({}) });
    expect((await run(['up'], { compose: first })).code).toBe(0);
    const password = readState().credentials.GRAFANA_ADMIN_PASSWORD;
    const again = fakeRuntime('compose', { preflight: async () => passing, status: async () => [], up: async (_s, ctx) => (expect(ctx.credentials.GRAFANA_ADMIN_PASSWORD).toBe(password), {}) });
    expect((await run(['up'], { compose: again })).code).toBe(0);
    expect(again.calls).toEqual(['preflight', 'status', 'up']);
  });

  it('bad input is refused before any runtime call: unknown flag, stray argument, bad profile', async () => {
    const rt = fakeRuntime('compose', {});
    expect((await run(['up', '--bogus'], { compose: rt })).code).toBe(2);
    expect((await run(['up', 'now'], { compose: rt })).code).toBe(2);
    expect((await run(['up', '--profile', 'huge'], { compose: rt })).code).toBe(2);
    expect(rt.calls).toEqual([]);
  });
});

describe('down', () => {
  it('with no record of what up made: cleans both runtimes and sums what they removed', async () => {
    const compose = fakeRuntime('compose', { down: async () => ({ containers: 3, networks: 1, volumes: 0, volumesKept: 2 }) });
    const kind = fakeRuntime('kind', { down: async () => ({ containers: 1, networks: 0, volumes: 0, volumesKept: 0 }) });
    const r = await run(['down', '--json'], { compose, kind });
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ containers: 4, networks: 1, volumesKept: 2, purge: false, stateRemoved: false });
  });

  it('--purge with a broken state file: purges anyway and deletes the file', async () => {
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true });
    writeFileSync(stateFile(), '{ not json');
    const compose = fakeRuntime('compose', { down: async (o) => (expect(o).toEqual({ purge: true }), { containers: 0, networks: 0, volumes: 4, volumesKept: 0 }) });
    const r = await run(['down', '--purge'], { compose });
    expect(r.code).toBe(0);
    expect(existsSync(stateFile())).toBe(false);
  });

  it('without --purge, a broken state file stops it with STATE_INVALID and no runtime call', async () => {
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true });
    writeFileSync(stateFile(), '{ not json');
    const compose = fakeRuntime('compose', {});
    const r = await run(['down', '--json'], { compose });
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('STATE_INVALID');
  });
});

describe('status', () => {
  it('not running: exit 1, running false', async () => {
    const r = await run(['status', '--json'], { compose: fakeRuntime('compose', { status: async () => [] }) });
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ running: false, healthy: false, components: [] });
  });

  it('all healthy: exit 0; one unhealthy: exit 1 and it is named', async () => {
    expect((await run(['status'], { compose: fakeRuntime('compose', { status: async () => healthy('store', 'loki') }) })).code).toBe(0);
    const sick = [...healthy('store'), { name: 'loki', state: 'running', health: 'unhealthy' } as ComponentStatus];
    const r = await run(['status'], { compose: fakeRuntime('compose', { status: async () => sick }) });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('not healthy: loki');
  });

  it('uses the runtime up recorded (kind), not compose', async () => {
    mkdirSync(env.MOP_STATE_DIR!, { recursive: true });
    const active = { runtime: 'kind', profile: 'default', project: 'mop-test', startedAt: new Date().toISOString(), hostPorts: {} };
    writeFileSync(stateFile(), JSON.stringify({ version: 1, credentials: { GRAFANA_ADMIN_PASSWORD: 'x', S3_ACCESS_KEY_ID: 'y', S3_SECRET_ACCESS_KEY: 'z' }, active }));
    const r = await run(['status', '--json'], { kind: fakeRuntime('kind', { status: async () => healthy('store') }) });
    expect(r.code).toBe(0);
    expect(r.json.runtime).toBe('kind');
  });

  it('--help is generated from the flag declarations, with the one summary of the command table', async () => {
    const r = await run(['status', '--help'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: mop-sandbox status [--show-secrets] [--json]');
    expect(r.stdout).toMatch(/--show-secrets +also print the generated credentials/);
    expect(r.stdout).toContain('Show each component: state, health and URL');
  });
});
