/**
 * The built CLI with a PATH that holds no shell, as on native Windows (PowerShell, cmd): a folder with links to
 * `node` and `docker` only. Every command that starts programs must still work: `doctor` (`docker compose version`),
 * `render`, and the engine path `up` (stand-in images, `docker compose up`) → `status` → `down`. With programs started
 * through a shell (zx's `$` needs bash) every one of them failed, and preflight blamed compose.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { createExec } from '../../scripts/lib/exec.js';
import { skipGroup } from '../support/skips.js';
import { engineUnavailable, standInImages } from '../support/stand-ins.js';
import { createSandbox, repoRoot, type Sandbox } from './harness.js';

const bin = join(repoRoot, 'dist', 'scripts', 'cli.js');
const why = engineUnavailable() ?? (existsSync(bin) ? undefined : `${bin} is not built (npm run build)`);
skipGroup('no-shell CLI run (stand-in)', why, { requiredInCI: true });

const shells = ['sh', 'bash', 'dash', 'zsh', 'ash', 'busybox'];
const cleanups: (() => Promise<void> | void)[] = [];

/** Runs the built bin with exactly `env` (no shell involved in starting it either). */
function runBuilt(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, shell: false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe.skipIf(Boolean(why))('the built CLI with no shell on PATH (stand-in images)', () => {
  afterAll(async () => {
    for (const c of cleanups.splice(0)) await c();
  }, 120_000);

  it('doctor, render, up, status and down work; nothing blames compose', async () => {
    const docker = await createExec().which('docker');
    expect(docker, 'docker CLI on PATH').toBeTruthy();
    const dir = mkdtempSync(join(tmpdir(), 'mop-noshell-path-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(process.execPath, join(dir, 'node'));
    symlinkSync(docker!, join(dir, 'docker'));
    expect(readdirSync(dir).sort()).toEqual(['docker', 'node']);
    expect(readdirSync(dir).filter((f) => shells.includes(f))).toEqual([]);

    standInImages({});
    const s: Sandbox = await createSandbox('noshell', {}, { PATH: dir, CI: '1' });
    cleanups.push(() => s.cleanup());
    expect(s.env.PATH!.split(delimiter)).toEqual([dir]);

    const doctor = await runBuilt(['doctor', '--json'], s.env);
    const checks = JSON.parse(doctor.stdout).checks as { id: string; ok: boolean; detail: string }[];
    console.log(`no-shell doctor (exit ${doctor.code}):\n${checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.id}: ${c.detail}`).join('\n')}`);
    expect(checks.find((c) => c.id === 'compose'), 'the compose check').toMatchObject({ ok: true, detail: expect.stringMatching(/^compose \d+\.\d+/) });
    expect(checks.find((c) => c.id === 'docker')).toMatchObject({ ok: true });

    const out = join(dir, '..', `${s.project}-render`);
    cleanups.push(() => rmSync(out, { recursive: true, force: true }));
    const render = await runBuilt(['render', '--runtime', 'compose', '--out', out, '--json'], s.env);
    expect(render.code, render.stderr).toBe(ExitCode.ok);
    expect(existsSync(join(out, 'docker-compose.yml'))).toBe(true);

    const up = await runBuilt(['up', '--no-open', '--json'], s.env);
    expect(up.code, up.stdout + up.stderr).toBe(ExitCode.ok);
    const ready = JSON.parse(up.stdout).components as { name: string; readySeconds: number }[];
    console.log(`no-shell up (exit ${up.code}): ${ready.map((c) => `${c.name} ${c.readySeconds}s`).join(', ')}`);
    const status = await runBuilt(['status', '--json'], s.env);
    expect(status.code, status.stdout).toBe(ExitCode.ok);
    const components = JSON.parse(status.stdout).components as { name: string; state: string }[];
    console.log(`no-shell status (exit ${status.code}): ${components.map((c) => `${c.name}=${c.state}`).join(' ')}`);
    expect(components.length).toBeGreaterThan(5);
    const down = await runBuilt(['down', '--json'], s.env);
    const removed = JSON.parse(down.stdout) as { containers: number; networks: number; volumesKept: number };
    console.log(`no-shell down (exit ${down.code}): ${removed.containers} containers and ${removed.networks} network(s) removed, ${removed.volumesKept} volumes kept`);
    expect(down.code, down.stdout).toBe(ExitCode.ok);
    expect(await s.containers()).toEqual([]);
  }, 300_000);
});
