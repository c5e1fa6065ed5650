/**
 * Stand-in images for engine tests: the real Grafana images cannot be pulled here, so each component gets a tiny
 * image made with `docker import` from a busybox-static rootfs. The REAL rendered compose file runs unchanged except
 * for the images (set through the image-override feature, MOP_IMAGE_<COMPONENT>).
 *
 * A stand-in ignores its arguments, prints a few log lines, appends a line to `standin-starts` in the component's
 * data directory (so tests can see data survive `down`/`up`), waits STANDIN_READY_DELAY seconds, then serves the
 * model's readiness path on every container port of the component with busybox httpd. It also provides what the
 * model's health checks and the bucket job call: `node` (the gateway's entrypoint), `/tempo -health`, `/usr/bin/loki -health`, `bash -c ...` (Alloy),
 * `wget` (Grafana), `mc alias set` / `mc mb` / `mc admin ...` (the bucket job) and `stat` / `chown` (the ownership step), and the
 * Grafana image's `/run.sh`, which Grafana's start script runs.
 *
 * Behaviours (baked into the image as ENV, because the compose file must stay the real one):
 *   readyDelay  seconds before the readiness endpoint answers 200
 *   mode        'ok' | 'never-ready' (answers 404 forever) | 'exit' (exits with exitCode at start)
 *               | 'oom' (at start, one process holds ever more memory until the kernel kills it at the limit)
 *               | 'fill' (at start, writes 16 MiB into its data directory, then exits 1: on a small volume it fills it)
 *   dockerHost  Alloy: the Docker API its component API pings (default: MOP_DOCKER_HOST, the socket proxy, as its
 *               config reads it; no answer: discovery finds nothing)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildStack, type Component, type ComponentName, type Stack } from '../../scripts/stack/model.js';

export const BUSYBOX = '/bin/busybox';
export const STANDIN_REPO = 'mop-standin';

export interface StandInBehavior {
  readyDelay?: number;
  mode?: 'ok' | 'never-ready' | 'exit' | 'oom' | 'fill';
  exitCode?: number;
  /** Alloy only: the Docker API (tcp://host:port) its component API pings instead of MOP_DOCKER_HOST, the socket proxy. */
  dockerHost?: string;
}

const applets = [
  'sh', 'ash', 'wget', 'httpd', 'sleep', 'cat', 'echo', 'mkdir', 'date', 'touch', 'ls', 'test', '[', 'printf', 'grep', 'id',
  'env', 'kill', 'ps', 'hostname', 'nc', 'true', 'false', 'head', 'tail', 'tr', 'wc', 'sed', 'seq', 'rm', 'uname',
  // The compose ownership step (data-owner) runs `stat -c %u:%g` and `chown -R` in the bucket job's image.
  'stat', 'chown',
  // Grafana's start script (config/grafana/start.sh) stages a plugin install with mktemp and mv.
  'mktemp', 'mv',
];

const entrypoint = `#!/bin/sh
# mop-sandbox stand-in for $STANDIN_COMPONENT: ignores its arguments, serves the readiness path, marks its data dir.
trap 'echo "stand-in $STANDIN_COMPONENT: stopping"; exit 0' TERM INT
echo "stand-in $STANDIN_COMPONENT: starting as uid $(id -u) with $# arguments (ignored)"
if [ -n "$STANDIN_DATA_DIR" ]; then
  if echo "start $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$STANDIN_DATA_DIR/standin-starts"; then
    echo "stand-in $STANDIN_COMPONENT: $STANDIN_DATA_DIR has $(wc -l < "$STANDIN_DATA_DIR/standin-starts") recorded start(s)"
  else
    echo "stand-in $STANDIN_COMPONENT: cannot write $STANDIN_DATA_DIR"
  fi
fi
if [ "$STANDIN_MODE" = exit ]; then
  echo "stand-in $STANDIN_COMPONENT: error: failing on purpose (STANDIN_MODE=exit)"
  echo "stand-in $STANDIN_COMPONENT: exiting with code \${STANDIN_EXIT_CODE:-3}"
  exit "\${STANDIN_EXIT_CODE:-3}"
fi
if [ "$STANDIN_MODE" = oom ]; then
  # sed keeps a line in memory; a 256 MiB line without a newline grows it until the memory limit stops it.
  echo "stand-in $STANDIN_COMPONENT: allocating memory until the limit (STANDIN_MODE=oom)"
  head -c 268435456 /dev/zero | tr '\\000' a | sed 's/a/b/' > /dev/null
  code=$?
  echo "stand-in $STANDIN_COMPONENT: the allocation ended with code $code"
  exit "$code"
fi
if [ "$STANDIN_MODE" = fill ]; then
  # Bounded (16 MiB): only a small volume fills; a real disk must never be filled by a test.
  echo "stand-in $STANDIN_COMPONENT: writing 16 MiB to $STANDIN_DATA_DIR (STANDIN_MODE=fill)"
  head -c 16777216 /dev/zero | cat > "$STANDIN_DATA_DIR/fill"
  echo "stand-in $STANDIN_COMPONENT: cannot write its data, exiting"
  exit 1
fi
if [ "\${STANDIN_READY_DELAY:-0}" != 0 ]; then
  echo "stand-in $STANDIN_COMPONENT: becoming ready in \${STANDIN_READY_DELAY}s"
  sleep "$STANDIN_READY_DELAY" & wait $!
fi
root=/www/ready
[ "$STANDIN_MODE" = never-ready ] && root=/www/empty
for p in $STANDIN_PORTS; do
  # Alloy's UI port also answers its component API (/alloy-api.sh), as the real Alloy's does.
  if [ "$STANDIN_COMPONENT" = alloy ] && [ "$p" = "$STANDIN_READY_PORT" ]; then
    STANDIN_ROOT="$root" nc -ll -p "$p" -e /alloy-api.sh &
  else
    httpd -p "$p" -h "$root" || echo "stand-in $STANDIN_COMPONENT: cannot listen on $p"
  fi
done
echo "stand-in $STANDIN_COMPONENT: listening on $STANDIN_PORTS ($STANDIN_MODE)"
n=0
while :; do
  if [ "$STANDIN_MODE" = never-ready ]; then n=$((n+1)); echo "stand-in $STANDIN_COMPONENT: still not ready ($n)"; fi
  sleep 1 & wait $!
done
`;

/**
 * Alloy's UI port: the readiness path and the component API (GET /api/v0/web/components[/<id>]) from the fixtures in
 * test/support/alloy-api/ (Alloy v1.18.1's shapes). Like the real Alloy, it lists docker log components only when
 * their config is mounted, and discovery.docker finds containers only when the Docker API its config names answers:
 * MOP_DOCKER_HOST (the socket proxy, tcp://socket-proxy:2375) or STANDIN_DOCKER_HOST, asked for /_ping.
 */
const alloyApi = String.raw`#!/bin/sh
read -r method path proto
while read -r line; do [ -z "$(printf %s "$line" | tr -d '\r')" ] && break; done
path=$(printf %s "$path" | sed 's/?.*//')
f=
case "$path" in
  "$STANDIN_READY_PATH") [ -f "$STANDIN_ROOT$path" ] && f="$STANDIN_ROOT$path" ;;
  /api/v0/web/components) if [ -f /etc/alloy/logs-docker.alloy ]; then f=/alloy-api/components.json; else f=/alloy-api/components-no-docker.json; fi ;;
  /api/v0/web/components/discovery.docker.containers)
    api=$STANDIN_DOCKER_HOST; [ -z "$api" ] && api=$MOP_DOCKER_HOST
    api=$(printf %s "$api" | sed 's|^tcp://||')
    if [ -n "$api" ] && wget -q -O /dev/null "http://$api/_ping"; then f=/alloy-api/discovery-docker.json; else f=/alloy-api/discovery-docker-empty.json; fi ;;
  /api/v0/web/components/loki.source.docker.containers) f=/alloy-api/loki-source-docker.json ;;
esac
if [ -n "$f" ]; then
  printf 'HTTP/1.0 200 OK\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$(wc -c < "$f")"
  cat "$f"
else
  printf 'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
fi
`;

/** The API bodies the stand-in Alloy serves (test/support/alloy-api/*.json, each naming its source). */
function alloyApiFiles(): Record<string, { content: string; mode: number }> {
  const body = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'alloy-api', `${name}.json`), 'utf8')).body;
  const json = (v: unknown) => ({ content: JSON.stringify(v), mode: 0o644 });
  return {
    'alloy-api.sh': { content: alloyApi, mode: 0o755 },
    'alloy-api/components.json': json(body('components')),
    'alloy-api/components-no-docker.json': json(body('components').filter((c: { name: string }) => !c.name.includes('docker'))),
    'alloy-api/discovery-docker.json': json(body('discovery-docker')),
    'alloy-api/discovery-docker-empty.json': json(body('discovery-docker-empty')),
    'alloy-api/loki-source-docker.json': json(body('loki-source-docker')),
  };
}

/** `/tempo -health`, `/usr/bin/loki -health`: check the readiness endpoint; anything else runs the stand-in. */
const binaryStub = `#!/bin/sh
if [ "$1" = -health ]; then exec wget -q -O /dev/null "http://127.0.0.1:\${STANDIN_READY_PORT}\${STANDIN_READY_PATH}"; fi
exec /standin "$@"
`;

/** Only Alloy's health check calls bash (\`bash -c 'exec 3<>/dev/tcp/...'\`): check the readiness endpoint instead. */
const bashStub = `#!/bin/sh
exec wget -q -O /dev/null "http://127.0.0.1:\${STANDIN_READY_PORT}\${STANDIN_READY_PATH}"
`;

/** The MinIO client, as the bucket job uses it: \`mc alias set NAME URL KEY SECRET\` waits up to 5 s for URL; \`mc mb\` succeeds. */
const mcStub = `#!/bin/sh
case "$1" in
  alias)
    i=0
    until wget -q -O /dev/null "$4/minio/health/ready"; do i=$((i+1)); [ $i -ge 50 ] && { echo "mc: $4 does not answer" >&2; exit 1; }; sleep 0.1; done
    echo "Added \\\`$3\\\` successfully." ;;
  mb) for a in "$@"; do b=$a; done; echo "Bucket created successfully \\\`$b\\\`." ;;
  *) echo "mc stand-in: $*" ;;
esac
`;

function rootfsFiles(stack: Stack): { files: Record<string, { content: string; mode: number }>; dirs: string[] } {
  const files: Record<string, { content: string; mode: number }> = {
    standin: { content: entrypoint, mode: 0o755 },
    tempo: { content: binaryStub, mode: 0o755 },
    'usr/bin/loki': { content: binaryStub, mode: 0o755 },
    'bin/bash': { content: bashStub, mode: 0o755 },
    'bin/mc': { content: mcStub, mode: 0o755 },
    // The Grafana image's entrypoint, which config/grafana/start.sh hands over to (with no grafana cli here, it
    // starts without the Drilldown apps, as it would offline).
    'run.sh': { content: '#!/bin/sh\nexec /standin "$@"\n', mode: 0o755 },
    ...alloyApiFiles(),
    // The gateway's entrypoint (`node /etc/mop/gateway/gateway.mjs`): the stand-in serves the readiness paths on the
    // gateway's ports in place of the backends it fronts (test/engine/gateway.test.ts runs the real gateway).
    'bin/node': { content: '#!/bin/sh\nexec /standin "$@"\n', mode: 0o755 },
  };
  for (const c of stack.components) if (c.readiness) files[`www/ready${c.readiness.path}`] = { content: 'ok\n', mode: 0o644 };
  files['www/empty/.keep'] = { content: '', mode: 0o644 };
  const dirs = [...new Set(stack.components.map((c) => c.dataDir).filter((d): d is string => Boolean(d)))].map((d) => d.replace(/^\//, ''));
  return { files, dirs: [...dirs, 'tmp'] };
}

function behaviourEnv(c: Component, b: StandInBehavior): Record<string, string> {
  return {
    PATH: '/bin:/usr/bin',
    STANDIN_COMPONENT: c.name,
    STANDIN_PORTS: [...new Set(c.ports.map((p) => p.port))].join(' '),
    STANDIN_READY_PORT: String(c.readiness?.port ?? c.ports[0]?.port ?? ''),
    STANDIN_READY_PATH: c.readiness?.path ?? '/',
    STANDIN_DATA_DIR: c.dataDir ?? '',
    STANDIN_READY_DELAY: String(b.readyDelay ?? 0),
    STANDIN_MODE: b.mode ?? 'ok',
    STANDIN_EXIT_CODE: String(b.exitCode ?? 3),
    STANDIN_DOCKER_HOST: b.dockerHost ?? '',
  };
}

function docker(args: string[], input?: Buffer, host?: string): string {
  const env = host ? { ...process.env, DOCKER_HOST: host } : process.env;
  return execFileSync('docker', args, { input, env, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }).toString();
}

function imageExists(ref: string, host?: string): boolean {
  try {
    docker(['image', 'inspect', '--format', '{{.Id}}', ref], undefined, host);
    return true;
  } catch {
    return false;
  }
}

let tarball: { hash: string; path: string } | undefined;

/** The rootfs tar (busybox + applet links + stubs + data dirs mode 1777), built once per process. */
function rootfsTar(stack: Stack): { hash: string; path: string } {
  if (tarball) return tarball;
  const { files, dirs } = rootfsFiles(stack);
  const h = createHash('sha256').update(readFileSync(BUSYBOX)).update(JSON.stringify({ files, dirs, applets }));
  const hash = h.digest('hex').slice(0, 12);
  const work = mkdtempSync(join(tmpdir(), 'mop-standin-'));
  process.once('exit', () => rmSync(work, { recursive: true, force: true }));
  const root = join(work, 'rootfs');
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(root, 'bin', 'busybox'), readFileSync(BUSYBOX), { mode: 0o755 });
  for (const a of applets) symlinkSync('busybox', join(root, 'bin', a));
  for (const [rel, f] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), f.content, { mode: f.mode });
    chmodSync(join(root, rel), f.mode);
  }
  // Data directories world-writable (like /tmp): a fresh named volume copies the mode, so uid 10001 and 472 can write.
  for (const d of dirs) {
    mkdirSync(join(root, d), { recursive: true });
    chmodSync(join(root, d), 0o1777);
  }
  const path = join(work, 'rootfs.tar');
  execFileSync('tar', ['-C', root, '--owner=0', '--group=0', '--numeric-owner', '-cf', path, '.']);
  rmSync(root, { recursive: true, force: true });
  tarball = { hash, path };
  return tarball;
}

/**
 * Builds (once, cached by a content-hash tag) one stand-in image per component of the default stack with the given
 * behaviours; returns component -> image reference.
 */
export function standInImages(
  behaviours: Partial<Record<ComponentName, StandInBehavior>> = {},
  stack: Stack = buildStack({ demo: true }),
  /** Another engine (DOCKER_HOST form), e.g. a test's private dockerd. */
  dockerHost?: string,
): Record<ComponentName, string> {
  const out = {} as Record<ComponentName, string>;
  for (const c of stack.components) {
    const env = behaviourEnv(c, behaviours[c.name] ?? {});
    const tar = rootfsTar(stack);
    const tag = createHash('sha256').update(tar.hash).update(JSON.stringify(env)).digest('hex').slice(0, 12);
    const ref = `${STANDIN_REPO}:${c.name}-${tag}`;
    if (!imageExists(ref, dockerHost)) {
      const changes = ['-c', 'ENTRYPOINT ["/standin"]', '-c', 'WORKDIR /', '-c', 'LABEL com.mop-sandbox.stand-in=true'];
      for (const [k, v] of Object.entries(env)) changes.push('-c', `ENV ${k}=${JSON.stringify(v)}`);
      docker(['import', ...changes, tar.path, ref], undefined, dockerHost);
    }
    out[c.name] = ref;
  }
  return out;
}

/** MOP_IMAGE_<COMPONENT>=<stand-in> for every component. */
export function imageEnv(images: Partial<Record<ComponentName, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(images).map(([c, ref]) => [`MOP_IMAGE_${c.toUpperCase()}`, ref!]));
}

/** Why engine tests cannot run here, or undefined when they can. */
export function engineUnavailable(): string | undefined {
  if (process.env.MOP_SKIP_ENGINE_TESTS) return `MOP_SKIP_ENGINE_TESTS is set`;
  if (!existsSync(BUSYBOX)) return `${BUSYBOX} is missing (apt-get install busybox-static) to build stand-in images`;
  try {
    docker(['version', '--format', '{{.Server.Version}}']);
  } catch (e) {
    const msg = String((e as { stderr?: Buffer }).stderr ?? (e as Error).message).trim().split('\n')[0];
    return `no Docker engine answers (${msg})`;
  }
  try {
    docker(['compose', 'version', '--short']);
  } catch {
    return 'docker compose v2 is not installed';
  }
  return undefined;
}

/**
 * By hand: `node --import tsx test/support/stand-ins.ts [component=delay:N|never-ready|exit:CODE ...]` builds the
 * stand-ins and prints `export MOP_IMAGE_<COMPONENT>=...` lines, e.g. `eval "$(node --import tsx test/support/stand-ins.ts tempo=never-ready)"`.
 */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const behaviours: Partial<Record<ComponentName, StandInBehavior>> = {};
  for (const arg of process.argv.slice(2)) {
    const [name, spec] = arg.split('=');
    const [kind, n] = spec.split(':');
    behaviours[name as ComponentName] = kind === 'delay' ? { readyDelay: Number(n) } : kind === 'exit' ? { mode: 'exit', exitCode: Number(n ?? 3) } : { mode: 'never-ready' };
  }
  for (const [k, v] of Object.entries(imageEnv(standInImages(behaviours)))) console.log(`export ${k}=${v}`);
}
