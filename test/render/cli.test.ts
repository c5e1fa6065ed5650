/**
 * `mop-sandbox render` through the compiled CLI, as a user runs it. The build goes to a private folder under
 * .render/ (gitignored) so parallel test files that build dist/ do not race with this one.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { packageRoot } from '../../scripts/lib/paths.js';
import { stateFile } from '../../scripts/lib/state.js';
import { profileNames } from '../../scripts/stack/profiles.js';
import { skipGroup } from '../support/skips.js';
import { composeV2, composeValidator, modelError, tempDir, unknownFields } from './helpers.js';

const buildDir = join(packageRoot, '.render', `test-cli-${process.pid}`);
const cli = join(buildDir, 'scripts', 'cli.js');
const home = tempDir('home');
const stateDir = join(home, 'state');
const v2 = composeV2();
skipGroup('docker compose config checks of the rendered folder', v2.ok ? undefined : v2.why, { requiredInCI: true });
if (process.getuid?.() === 0) console.log('read-only directory test skipped: running as root, which can write anywhere');

/** A clean environment: no MOP_* from the developer's shell, a temp HOME and state dir (never the real ones). */
function run(args: string[], extra: Record<string, string> = {}) {
  const env = { PATH: process.env.PATH!, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), MOP_STATE_DIR: stateDir, ...extra };
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, cwd: home, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  const tsc = spawnSync(process.execPath, [join(packageRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json', '--outDir', buildDir], {
    cwd: packageRoot,
    encoding: 'utf8',
  });
  // Type errors elsewhere in the tree (work in progress) still emit JavaScript; only a missing CLI is fatal.
  if (!existsSync(cli)) throw new Error(`tsc did not produce ${cli}: ${tsc.stdout}${tsc.stderr}`);
}, 120_000);

afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

const prodEnv = { MOP_S3_ENDPOINT: 's3.example.com:443' };

describe('mop-sandbox render (compiled CLI)', () => {
  /** Where each profile's compose render went, for the `docker compose config` test below. */
  const composeOut = new Map<string, string>();
  it.each(profileNames)('renders compose for profile %s into a folder with the file, its configs and a 0600 .env', (profile) => {
    const out = join(tempDir('out'), 'compose');
    composeOut.set(profile, out);
    const r = run(['render', '--runtime', 'compose', '--profile', profile, '--out', out], profile === 'prod' ? prodEnv : {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`into ${out}`);
    expect(r.stdout).toMatch(/\.env\s+\(credentials, mode 0600\)/);
    const compose = readFileSync(join(out, 'docker-compose.yml'), 'utf8');
    expect(composeValidator()(parse(compose))).toEqual([]);
    expect(statSync(join(out, '.env')).mode & 0o777).toBe(0o600);
    const creds = JSON.parse(readFileSync(stateFile({ MOP_STATE_DIR: stateDir }), 'utf8')).credentials;
    for (const v of Object.values<string>(creds)) expect(compose).not.toContain(v);
    expect(readFileSync(join(out, '.env'), 'utf8')).toContain(`MOP_GRAFANA_ADMIN_PASSWORD=${creds.GRAFANA_ADMIN_PASSWORD}`);
    for (const f of parse(compose).services.tempo.volumes.filter((v: any) => v.type === 'bind')) expect(existsSync(join(out, f.source))).toBe(true);
    expect(existsSync(join(out, 'README.txt'))).toBe(true);
  });

  describe.skipIf(!v2.ok)('compose v2', () => {
    it.each(profileNames)('docker compose accepts the rendered folder for profile %s as is', (profile) => {
      const out = composeOut.get(profile);
      if (!out) throw new Error(`the render test for ${profile} did not run first`);
      // By hand: compose reads the .env next to the file; the config copies and the build context resolve.
      const c = spawnSync('docker', ['compose', '-f', join(out, 'docker-compose.yml'), 'config', '-q'], { encoding: 'utf8', cwd: home, env: { PATH: process.env.PATH!, HOME: process.env.HOME! } });
      expect(c.stderr).toBe('');
      expect(c.status).toBe(0);
    });
  });

  it.each(profileNames)('renders kind for profile %s: cluster config and valid manifests, Secret 0600', (profile) => {
    const out = join(tempDir('out'), 'kind');
    const r = run(['render', '--runtime', 'kind', '--profile', profile, '--out', out, '--json'], profile === 'prod' ? prodEnv : {});
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ ok: true, runtime: 'kind', profile, out });
    expect(doc.files).toContain('kind-cluster.yaml');
    expect(doc.files).toContain('manifests/00-namespace.yaml');
    expect(doc.files).toContain('README.txt');
    expect(statSync(join(out, 'manifests', '02-secret.yaml')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain(`kubectl apply -f ${out}/manifests`);
    // `kubectl wait` for Ready pods leaves out the finished bucket job's pod (it never turns Ready, kubectl#1451).
    expect(readFileSync(join(out, 'README.txt'), 'utf8')).toContain("wait --for=condition=Ready pods -l 'app.kubernetes.io/part-of=mop-sandbox,app.kubernetes.io/name notin (buckets)'");
    const kind = parse(readFileSync(join(out, 'kind-cluster.yaml'), 'utf8'));
    expect(kind.networking.apiServerAddress).toBe('127.0.0.1');
    for (const m of kind.nodes[0].extraPortMappings) expect(m.listenAddress).toBe('127.0.0.1');
    for (const f of doc.files.filter((f: string) => f.startsWith('manifests/'))) {
      const text = readFileSync(join(out, f), 'utf8');
      expect(unknownFields(text), f).toEqual([]);
      for (const d of parseAllDocuments(text)) expect(modelError(d.toJS()), f).toBeUndefined();
    }
  });

  it('uses ./mop-render/<runtime>-<profile> by default and removes files an earlier render wrote but this one does not', () => {
    let r = run(['render', '--runtime', 'kind', '--profile', 'dev'], { MOP_OBI: 'true' });
    expect(r.code).toBe(0);
    const out = join(home, 'mop-render', 'kind-dev');
    expect(existsSync(join(out, 'manifests', '18-obi.yaml'))).toBe(true);
    writeFileSync(join(out, 'mine.txt'), 'a file of the user');
    r = run(['render', '--runtime', 'kind', '--profile', 'dev']);
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'manifests', '18-obi.yaml'))).toBe(false);
    expect(existsSync(join(out, 'mine.txt'))).toBe(true);
  });

  const bad: [string, string[], Record<string, string>, RegExp][] = [
    ['an unknown profile', ['render', '--profile', 'nope'], {}, /^error: unknown profile "nope"; use one of: default, dev, prod$/],
    ['an unknown runtime', ['render', '--runtime', 'docker'], {}, /^error: unknown runtime "docker"; use one of: compose, kind$/],
    ['an unknown store', ['render', '--store', 'ceph'], {}, /^error: unknown object store "ceph"; use one of: minio, seaweedfs, external$/],
    ['prod without an S3 endpoint', ['render', '--profile', 'prod'], {}, /^error: the prod profile uses an external S3 endpoint, and none is set; set MOP_S3_ENDPOINT/],
    ['a directory under a file', ['render', '--out', '/etc/hostname/sub'], {}, /^error: cannot write to \/etc\/hostname\/sub: a parent is a file, not a directory; choose another directory with --out$/],
    ['an existing file as the directory', ['render', '--out', '/etc/hostname'], {}, /^error: cannot write to \/etc\/hostname: it exists and is not a directory; choose another directory with --out$/],
    ['a directory the kernel refuses (/proc)', ['render', '--out', '/proc/mop-render'], {}, /^error: cannot write to \/proc\/mop-render: .*; choose another directory with --out$/],
  ];
  it.each(bad)('refuses %s with one line and exit code 2', (_, args, env, line) => {
    const r = run(args, env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
  });

  it.skipIf(process.getuid?.() === 0)('refuses a read-only directory with one line and exit code 2 (not as root)', () => {
    const dir = tempDir('ro');
    chmodSync(dir, 0o500);
    const r = run(['render', '--out', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([`error: cannot write to ${join(dir, 'out')}: permission denied; choose another directory with --out`]);
  });

  it('reports bad input in the JSON document with --json', () => {
    const r = run(['render', '--runtime', 'nope', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'USAGE', what: expect.stringContaining('unknown runtime "nope"') } });
  });
});
