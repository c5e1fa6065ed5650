/**
 * The package as users get it: `npm pack`, installed into an empty folder, then `render` and the demo image's
 * `docker build` run from that installed copy, not from this checkout. (npm never publishes the root
 * package-lock.json, so a build that needs it works from git and fails from the registry.)
 *
 * The install uses a lockfile made from this repository's own (the exact tested versions), so `npm ci --offline`
 * installs from the npm cache without a registry. The demo build uses a stand-in Node base image (no registry here);
 * the real base image is built in e2e.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../demo-app/demo-process.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { nodeStandIn, nodeStandInUnavailable } from '../support/node-stand-in.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'mop-packed-'));
const app = join(work, 'app');
const installed = join(app, 'node_modules', 'mop-sandbox');
let packed: { filename: string; files: { path: string }[] };

/** package.json + package-lock.json for a folder whose only dependency is the tarball, with the root lock's versions. */
function writeInstallFolder(tarball: string) {
  const rootLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8'));
  const spec = `file:../${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'packed-install', dependencies: { 'mop-sandbox': spec } },
    'node_modules/mop-sandbox': { version: pkg.version, resolved: spec, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [k, v] of Object.entries(rootLock.packages as Record<string, { dev?: boolean }>)) {
    if (k.startsWith('node_modules/') && !v.dev) packages[k] = v;
  }
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'packed-install', private: true, dependencies: { 'mop-sandbox': spec } }, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify({ name: 'packed-install', lockfileVersion: 3, requires: true, packages }, null, 2));
}

beforeAll(() => {
  if (!existsSync(join(repoRoot, 'dist', 'scripts', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` (npm test does) before this test');
  // --ignore-scripts: `prepare` would rebuild dist, which `npm test` has just done.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  packed = JSON.parse(out)[0];
  writeInstallFolder(packed.filename);
  execFileSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
}, 180_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the packed package, installed in an empty folder', () => {
  it('ships the CLI and the demo app with its own package.json and lockfile', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['dist/scripts/cli.js', 'demo-app/Dockerfile', 'demo-app/package.json', 'demo-app/package-lock.json']));
    // npm never publishes the root lockfile: nothing in the image build may need it.
    expect(files).not.toContain('package-lock.json');
    expect(existsSync(join(installed, 'demo-app', 'package-lock.json'))).toBe(true);
  });

  it('runs `render` for kind and compose from the installed copy', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MOP_STATE_DIR: join(work, 'state'), XDG_CONFIG_HOME: join(work, 'config'), HOME: work };
    delete env.MOP_SETTINGS;
    const bin = join(app, 'node_modules', '.bin', 'mop-sandbox');
    for (const runtime of ['kind', 'compose']) {
      const r = spawnSync(bin, ['render', '--runtime', runtime, '--profile', 'default', '--out', join(work, `out-${runtime}`), '--json'], { cwd: app, env, encoding: 'utf8' });
      expect(r.stderr + r.stdout).not.toMatch(/error/i);
      expect(r.status).toBe(0);
    }
    expect(existsSync(join(work, 'out-kind', 'manifests', '17-demo.yaml'))).toBe(true);
    expect(readFileSync(join(work, 'out-compose', 'docker-compose.yml'), 'utf8')).toContain('demo-app/Dockerfile');
  });

  const why = engineUnavailable() ?? nodeStandInUnavailable(join(repoRoot, 'demo-app', 'package-lock.json'));
  if (why) console.log(`packed demo build (stand-in Node base image) skipped: ${why}`);

  it.skipIf(Boolean(why))('builds the demo image from the installed copy on a stand-in Node base image, and the image loads its telemetry', () => {
    const base = nodeStandIn(join(installed, 'demo-app', 'package-lock.json'));
    const tag = `mop-packed-demo:${process.pid}-${Date.now()}`;
    try {
      const build = spawnSync('docker', ['build', '--force-rm', '--network', 'none', '--build-arg', `NODE_IMAGE=${base}`, '-f', join(installed, 'demo-app', 'Dockerfile'), '-t', tag, installed], { encoding: 'utf8' });
      expect(build.status, build.stdout + build.stderr).toBe(0);
      // The preload the services start with: the SDK, the http instrumentation and the version read from package.json.
      const check = spawnSync('docker', ['run', '--rm', '--network', 'none', '--entrypoint', 'node', tag, '--import', './demo-app/telemetry/register.js', '-e', 'console.log("loaded")'], {
        encoding: 'utf8',
        env: { ...process.env },
      });
      expect(check.stdout + check.stderr).toContain('loaded');
      expect(check.status).toBe(0);
    } finally {
      spawnSync('docker', ['rmi', '-f', tag]);
    }
  }, 180_000);
});
