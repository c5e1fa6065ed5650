/**
 * A stand-in for the demo's Node base image (images.node cannot be pulled here): made with `docker import` from this
 * machine's own node and npm, busybox for the shell, and an npm cache holding exactly the tarballs demo-app's lockfile
 * names (copied by integrity from this machine's npm cache, which `npm ci` filled). The image sets
 * npm_config_offline, so the Dockerfile's real `npm ci` installs from that cache without a registry.
 *
 * Cached by a content-hash tag: a second run reuses the image.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BUSYBOX } from './stand-ins.js';

export const NODE_STANDIN_REPO = 'mop-standin-node';

const run = (file: string, args: string[], env: NodeJS.ProcessEnv = process.env) => execFileSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).toString();

/** cacache's content path for an SRI integrity ("sha512-<base64>"). */
export function cacheContentPath(cacheDir: string, integrity: string): string {
  const [algo, b64] = integrity.split(' ')[0].split(/-(.*)/s);
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return join(cacheDir, '_cacache', 'content-v2', algo, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

/** The registry tarballs a lockfile names: [package path, integrity]. */
export function lockedTarballs(lockPath: string): [string, string][] {
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { packages: Record<string, { integrity?: string; link?: boolean }> };
  return Object.entries(lock.packages)
    .filter(([k, v]) => k.startsWith('node_modules/') && v.integrity && !v.link)
    .map(([k, v]) => [k, v.integrity!]);
}

/**
 * The cache index entries of `names`: their registry documents (packuments) and tarballs, by URL key. Without a
 * lockfile `resolved` URL (npm's omit-lockfile-registry-resolved) npm ci looks both up by URL, not only by integrity.
 * [index file, content integrity].
 */
function packumentEntries(cacheDir: string, names: Set<string>): [string, string][] {
  const out: [string, string][] = [];
  const index = join(cacheDir, '_cacache', 'index-v5');
  for (const rel of readdirSync(index, { recursive: true, encoding: 'utf8' })) {
    const file = join(index, rel);
    if (!statSync(file).isFile()) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const entry = line.split('\t')[1];
      if (!entry) continue;
      const { key, integrity } = JSON.parse(entry) as { key: string; integrity?: string };
      // ".../<name>" (the packument) or ".../<name>/-/<file>.tgz" (a tarball); scoped names as "@scope%2fname" or "@scope/name".
      const m = /^make-fetch-happen:request-cache:https?:\/\/[^/]+\/(?:.*?\/)??((?:@[^/]+(?:\/|%2f))?[^/@]+)(?:\/-\/[^/]+\.tgz)?$/i.exec(key);
      if (m && integrity && names.has(decodeURIComponent(m[1]))) out.push([rel, integrity]);
    }
  }
  return out;
}

const packageName = (lockPath: string) => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** Why the stand-in cannot be made here (a tarball missing from the npm cache), or undefined. */
export function nodeStandInUnavailable(lockPath: string): string | undefined {
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static)`;
  const cache = run('npm', ['config', 'get', 'cache']).trim();
  const missing = lockedTarballs(lockPath).filter(([, i]) => !existsSync(cacheContentPath(cache, i)));
  if (missing.length) return `${missing.length} of demo-app's locked tarballs are not in the npm cache ${cache} (first: ${missing[0][0]}); run \`npm ci\` first`;
  return undefined;
}

/** Builds (or reuses) the stand-in Node image for `lockPath`'s dependencies; returns its reference. */
export function nodeStandIn(lockPath: string, /** Another engine (DOCKER_HOST form), e.g. a test's private dockerd. */ dockerHost?: string): string {
  const engineEnv = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
  const cache = run('npm', ['config', 'get', 'cache']).trim();
  const node = realpathSync(process.execPath);
  const npmDir = dirname(dirname(realpathSync(run('sh', ['-c', 'command -v npm']).trim())));
  const libs = run('ldd', [node])
    .split('\n')
    .map((l) => /(\/\S+)\s+\(0x/.exec(l)?.[1])
    .filter((p): p is string => Boolean(p));
  const tarballs = lockedTarballs(lockPath);
  const entries = packumentEntries(cache, new Set(tarballs.map(([p]) => packageName(p))));
  const tag = createHash('sha256')
    .update(readFileSync(node))
    .update(readFileSync(join(npmDir, 'package.json')))
    .update(JSON.stringify([tarballs, entries]))
    .update(run('npm', ['config', 'get', 'registry']))
    .digest('hex')
    .slice(0, 12);
  const ref = `${NODE_STANDIN_REPO}:${tag}`;
  try {
    run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref], engineEnv);
    return ref;
  } catch {
    /* not built yet */
  }
  const work = mkdtempSync(join(tmpdir(), 'mop-node-standin-'));
  try {
    const root = join(work, 'rootfs');
    const put = (from: string, to: string) => {
      mkdirSync(dirname(join(root, to)), { recursive: true });
      copyFileSync(from, join(root, to));
    };
    put(BUSYBOX, 'bin/busybox');
    for (const a of ['sh', 'env', 'ls', 'cat', 'rm', 'mkdir']) symlinkSync('busybox', join(root, 'bin', a));
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    symlinkSync('/bin/env', join(root, 'usr/bin/env'));
    put(node, 'usr/local/bin/node');
    for (const lib of libs) put(lib, lib.slice(1));
    mkdirSync(join(root, 'usr/local/lib/node_modules'), { recursive: true });
    execFileSync('cp', ['-a', npmDir, join(root, 'usr/local/lib/node_modules/npm')]);
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(root, 'usr/local/bin/npm'));
    for (const [, integrity] of tarballs) put(cacheContentPath(cache, integrity), cacheContentPath('/npm-cache', integrity).slice(1));
    for (const [rel, integrity] of entries) {
      put(join(cache, '_cacache', 'index-v5', rel), join('npm-cache/_cacache/index-v5', rel));
      if (existsSync(cacheContentPath(cache, integrity))) put(cacheContentPath(cache, integrity), cacheContentPath('/npm-cache', integrity).slice(1));
    }
    mkdirSync(join(root, 'tmp'), { recursive: true, mode: 0o1777 });
    const tar = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '--numeric-owner', '-cf', tar, '.']);
    const registry = run('npm', ['config', 'get', 'registry']).trim();
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', npm_config_registry: registry, npm_config_cache: '/npm-cache', npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    const changes = ['-c', 'LABEL com.mop-sandbox.stand-in=true'];
    for (const [k, v] of Object.entries(env)) changes.push('-c', `ENV ${k}=${v}`);
    run('docker', ['import', ...changes, tar, ref], engineEnv);
    // Older stand-ins (other node, npm or lockfile) are ours and useless now.
    for (const old of run('docker', ['images', NODE_STANDIN_REPO, '--format', '{{.Repository}}:{{.Tag}}'], engineEnv).split('\n').filter((r) => r && r !== ref)) {
      spawnSync('docker', ['rmi', old], { env: engineEnv });
    }
    return ref;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
