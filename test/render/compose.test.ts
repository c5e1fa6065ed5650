import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { UserError } from '../../scripts/lib/errors.js';
import { configDir, packageRoot } from '../../scripts/lib/paths.js';
import { secretEnvName } from '../../scripts/render/common.js';
import { DATA_OWNER_SERVICE, type EngineAdaptations, composeDocument, composeMemory, composeRenderFiles, renderCompose, renderEnvFile } from '../../scripts/render/compose.js';
import { buildStack, secretNames, stackLabel, userOn, type Stack } from '../../scripts/stack/model.js';
import { DOCKER_HOST_ENV, SOCKET_PROXY, SOCKET_PROXY_NETWORK, SOCKET_PROXY_PORT } from '../../scripts/stack/socket-proxy.js';
import { skipGroup } from '../support/skips.js';
import { composeV2, composeValidator, fakeCredentials, label, stackOf, tempDir, variants } from './helpers.js';

const execFileAsync = promisify(execFile);
const validate = composeValidator();
const v2 = composeV2();
skipGroup('docker compose config checks', v2.ok ? undefined : v2.why, { requiredInCI: true });
/** The engine adaptations besides the default: a rootless Podman without cpu delegation, an engine without a socket. */
const engineVariants: EngineAdaptations[] = [
  { dockerSocket: '/run/user/1000/podman/podman.sock', disableSelinuxLabels: true, cpuLimits: false },
  { dockerSocket: undefined, disableSelinuxLabels: false, cpuLimits: true },
];
const credentialEnv = Object.fromEntries(secretNames.map((n) => [secretEnvName(n), fakeCredentials[n]]));

describe('compose renderer', () => {
  it.each(variants.map((o) => [label(o), o] as const))('passes the compose-spec schema (%s)', (_, opts) => {
    const stack = stackOf(opts);
    for (const startInterval of [false, true]) {
      const text = renderCompose(stack, { startInterval });
      expect(validate(parse(text))).toEqual([]);
      expect(parse(text)).toEqual(composeDocument(stack, { startInterval }));
    }
    for (const engine of engineVariants) expect(validate(parse(renderCompose(stack, { engine })))).toEqual([]);
  });

  it('catches what the schema is for (a typo is reported)', () => {
    const doc = composeDocument(buildStack()) as any;
    doc.services.grafana.prots = doc.services.grafana.ports;
    expect(validate(doc).join('\n')).toMatch(/additionalProperty.*prots/);
  });

  it.each(variants.map((o) => [label(o), o] as const))('publishes exactly the model ports, each on 127.0.0.1 (%s)', (_, opts) => {
    const stack = stackOf(opts);
    const doc = composeDocument(stack);
    const all = Object.values(doc.services).flatMap((s) => s.ports ?? []);
    expect(all.length).toBe(stack.published.length);
    for (const p of all) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    for (const p of stack.published) expect(doc.services[p.publisher].ports).toContain(`127.0.0.1:${p.hostPort}:${p.containerPort}`);
    // Quoted in the file, so no YAML 1.1 reader sees a base-60 number.
    for (const p of all) expect(renderCompose(stack)).toContain(`- "${p}"`);
  });

  it('honours moved host ports and another bind address', () => {
    const stack = buildStack({ hostPorts: { 'grafana.http': 3001 }, bindAddress: '127.0.0.2' });
    expect(composeDocument(stack).services.grafana.ports).toEqual(['127.0.0.2:3001:3000']);
    const v6 = buildStack({ bindAddress: '::1' });
    expect(composeDocument(v6).services.grafana.ports).toEqual(['[::1]:3000:3000']);
  });

  it('never writes a credential: secrets are required variables, documented in the header', () => {
    const stack = buildStack({ obi: true });
    const text = renderCompose(stack);
    for (const value of Object.values(fakeCredentials)) expect(text).not.toContain(value);
    const doc = composeDocument(stack);
    expect(doc.services.grafana.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{MOP_GRAFANA_ADMIN_PASSWORD:\?[^}]*mop-sandbox up[^}]*\}$/);
    expect(doc.services.store.environment!.MINIO_ROOT_PASSWORD).toMatch(/^\$\{MOP_S3_SECRET_ACCESS_KEY:\?/);
    for (const n of secretNames) expect(text.split('\n').slice(0, 8).join('\n')).toContain(secretEnvName(n));
  });

  it('doubles literal dollars so compose does not interpolate shell variables', () => {
    const doc = composeDocument(buildStack());
    const script = doc.services.buckets.command!.join(' ');
    expect(script).toContain('"$$S3_ACCESS_KEY_ID"');
    expect(script).not.toMatch(/[^$]\$[A-Za-z{]/);
  });

  it('maps dependencies to compose conditions, degrading healthy to started without a health check', () => {
    const stack = buildStack();
    const doc = composeDocument(stack);
    expect(doc.services.tempo.depends_on).toEqual({ buckets: { condition: 'service_completed_successfully' } });
    expect(doc.services.grafana.depends_on!.mimir).toEqual({ condition: 'service_started' });
    const edited: Stack = {
      ...stack,
      components: stack.components.map((c) =>
        c.name === 'grafana' ? { ...c, dependsOn: [{ name: 'mimir', condition: 'healthy' }, { name: 'loki', condition: 'healthy' }] } : c,
      ),
    };
    const deps = composeDocument(edited).services.grafana.depends_on!;
    expect(deps.mimir.condition).toBe('service_started'); // mimir (distroless) has no health check
    expect(deps.loki.condition).toBe('service_healthy');
  });

  it('runs the bucket job once and restarts the rest; labels, users, limits and OBI privileges come from the model', () => {
    const stack = buildStack({ obi: true });
    const doc = composeDocument(stack);
    for (const c of stack.components) {
      const s = doc.services[c.name];
      expect(s.restart).toBe(c.oneShot ? 'no' : 'unless-stopped');
      expect(s.labels).toEqual({ [stackLabel]: 'mop-sandbox', 'com.mop-sandbox.component': c.name, 'com.mop-sandbox.profile': 'default' });
      expect(s.user).toBe(userOn(c, 'compose'));
      if (!c.privileged) expect(s).toMatchObject({ cap_drop: ['ALL'], security_opt: ['no-new-privileges:true'] });
      expect(s.deploy!.resources.limits.memory).toBe(composeMemory(c.resources.limits.memory));
      expect(s.healthcheck === undefined).toBe(!c.healthcheck);
    }
    // OBI sees the demo's processes only (its sidecar mode), never the host's (security review F6); without the demo, the host's.
    expect(doc.services.obi).toMatchObject({ privileged: true, pid: 'service:demo', depends_on: { demo: { condition: 'service_started' } } });
    expect(composeDocument(buildStack({ obi: true, demo: false })).services.obi.pid).toBe('host');
    expect(doc.services.tempo.healthcheck).toMatchObject({ test: ['CMD', '/tempo', '-health'] });
    expect(doc.services.tempo.healthcheck!.start_interval).toBeUndefined();
    expect(composeDocument(stack, { startInterval: true }).services.tempo.healthcheck!.start_interval).toBe('1s');
    expect(renderCompose(stack)).toMatch(/restart: "no"/);
  });

  it('mounts data volumes, compose-only configs read-only, dashboards for Grafana and the Docker socket for the socket proxy only', () => {
    const stack = buildStack();
    const doc = composeDocument(stack);
    expect(doc.volumes).toHaveProperty('tempo-data');
    expect(doc.services.tempo.volumes).toContainEqual({ type: 'volume', source: 'tempo-data', target: '/var/tempo' });
    const alloyTargets = doc.services.alloy.volumes!.map((v) => v.target);
    expect(alloyTargets).toContain('/etc/alloy/logs-docker.alloy');
    expect(alloyTargets).not.toContain('/etc/alloy/logs-kubernetes.alloy');
    // create_host_path: false, so a missing socket fails instead of becoming an empty root-owned directory.
    expect(doc.services[SOCKET_PROXY].volumes).toContainEqual({ type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock', read_only: true, bind: { create_host_path: false } });
    expect(doc.services[SOCKET_PROXY].volumes).toContainEqual({ type: 'bind', source: '../config/socket-proxy/socket-proxy.mjs', target: '/etc/mop/socket-proxy/socket-proxy.mjs', read_only: true });
    // No other service mounts the socket.
    const withSocket = Object.entries(doc.services).filter(([, svc]) => (svc.volumes ?? []).some((v) => v.source.endsWith('.sock') || v.target.endsWith('.sock')));
    expect(withSocket.map(([n]) => n)).toEqual([SOCKET_PROXY]);
    expect(doc.services.grafana.volumes).toContainEqual({ type: 'bind', source: '../dashboards', target: '/etc/mop/dashboards', read_only: true });
    for (const s of Object.values(doc.services)) for (const v of s.volumes ?? []) if (v.type === 'bind') expect(v.read_only).toBe(true);
    expect(doc.services.demo.build).toEqual({ context: '..', dockerfile: 'demo-app/Dockerfile' });
  });

  it('mounts the engine\'s own Docker socket into the socket proxy; without one, no proxy and Alloy gets none of the files that read it, and the header says so', () => {
    const stack = buildStack();
    const own = composeDocument(stack, { engine: { dockerSocket: '/run/user/1000/podman/podman.sock', disableSelinuxLabels: false, cpuLimits: true } });
    expect(own.services[SOCKET_PROXY].volumes).toContainEqual(expect.objectContaining({ source: '/run/user/1000/podman/podman.sock', target: '/var/run/docker.sock', bind: { create_host_path: false } }));
    expect(own.services.alloy.volumes!.map((v) => v.source)).not.toContain('/run/user/1000/podman/podman.sock');
    const none = { dockerSocket: undefined, disableSelinuxLabels: false, cpuLimits: true };
    const without = composeDocument(stack, { engine: none });
    expect(without.services[SOCKET_PROXY]).toBeUndefined();
    expect(without.networks[SOCKET_PROXY_NETWORK]).toBeUndefined();
    expect(without.services.alloy.depends_on?.[SOCKET_PROXY]).toBeUndefined();
    expect(Object.keys(without.services.alloy.networks ?? {})).not.toContain(SOCKET_PROXY_NETWORK);
    expect(composeRenderFiles({ stack, engine: none, envFile: false }).map((f) => f.path)).not.toContain('config/socket-proxy/socket-proxy.mjs');
    expect(composeRenderFiles({ stack, envFile: false }).map((f) => f.path)).toContain('config/socket-proxy/socket-proxy.mjs');
    const targets = without.services.alloy.volumes!.map((v) => v.target);
    expect(targets).not.toContain('/var/run/docker.sock');
    expect(targets).not.toContain('/etc/alloy/logs-docker.alloy');
    expect(targets.filter((t) => t.includes('discovery-docker'))).toEqual([]);
    // Every other Alloy file stays (OTLP, metrics scrapes).
    expect(targets).toContain('/etc/alloy/config.alloy');
    expect(targets).toContain('/etc/alloy/stack-compose.alloy');
    expect(renderCompose(stack, { engine: none })).toContain('No container-log collection');
  });

  it('Podman: SELinux labels off for every container that mounts host files, and only on Podman', () => {
    const stack = buildStack({ obi: true });
    const podman = composeDocument(stack, { engine: { dockerSocket: '/var/run/docker.sock', disableSelinuxLabels: true, cpuLimits: true } });
    for (const [name, svc] of Object.entries(podman.services)) {
      const binds = (svc.volumes ?? []).some((v) => v.type === 'bind');
      expect(svc.security_opt?.includes('label=disable') ?? false, name).toBe(binds && !svc.privileged);
    }
    expect(podman.services.alloy.security_opt).toEqual(['no-new-privileges:true', 'label=disable']);
    expect(podman.services[SOCKET_PROXY].security_opt).toEqual(['no-new-privileges:true', 'label=disable']);
    for (const svc of Object.values(composeDocument(stack).services)) expect(svc.security_opt ?? []).not.toContain('label=disable');
  });

  it('no `cpus` where the engine cannot set CPU limits; memory limits stay', () => {
    const doc = composeDocument(buildStack(), { engine: { dockerSocket: '/var/run/docker.sock', disableSelinuxLabels: false, cpuLimits: false } });
    for (const [name, svc] of Object.entries(doc.services)) {
      if (!svc.deploy) continue;
      expect(svc.deploy.resources.limits.cpus, name).toBeUndefined();
      expect(svc.deploy.resources.limits.memory, name).toMatch(/^\d+[GMK]?$/);
    }
    expect(composeDocument(buildStack()).services.tempo.deploy!.resources.limits.cpus).toBeGreaterThan(0);
  });

  it("runs the socket proxy as the Node image's user with the socket's group when the engine plan knows it, else as root; locked down either way", () => {
    const stack = buildStack({ store: 'minio' });
    const engine = { dockerSocket: '/var/run/docker.sock', dockerSocketGroup: 105, disableSelinuxLabels: false, cpuLimits: true };
    const doc = composeDocument(stack, { engine });
    const proxy = doc.services[SOCKET_PROXY];
    expect(proxy).toMatchObject({
      image: doc.services.gateway.image,
      entrypoint: ['node', '/etc/mop/socket-proxy/socket-proxy.mjs'],
      user: '1000:1000',
      group_add: ['105'],
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      restart: 'unless-stopped',
      environment: { MOP_SOCKET_PROXY_SOCKET: '/var/run/docker.sock', MOP_SOCKET_PROXY_PORT: String(SOCKET_PROXY_PORT), MOP_SOCKET_PROXY_ONLY_LABEL: `${stackLabel}=mop-sandbox` },
      labels: { [stackLabel]: 'mop-sandbox', 'com.mop-sandbox.component': SOCKET_PROXY },
    });
    // The proxy keeps Alloy to the stack it belongs to (the project's label), unless every container's logs are collected.
    expect(composeDocument(stack, { engine, projectName: 'mine' }).services[SOCKET_PROXY].environment!.MOP_SOCKET_PROXY_ONLY_LABEL).toBe(`${stackLabel}=mine`);
    expect(composeDocument(buildStack({ store: 'minio', collectAllLogs: true }), { engine }).services[SOCKET_PROXY].environment).not.toHaveProperty('MOP_SOCKET_PROXY_ONLY_LABEL');
    expect(proxy.cap_add).toBeUndefined();
    expect(proxy.privileged).toBeUndefined();
    expect(proxy.deploy!.resources.limits).toMatchObject({ memory: '128M', pids: 64 });
    // Reachable only on its own internal network, which only Alloy joins; nothing published.
    expect(proxy.ports).toBeUndefined();
    expect(proxy.networks).toEqual({ [SOCKET_PROXY_NETWORK]: {} });
    expect(doc.networks[SOCKET_PROXY_NETWORK]).toEqual({ labels: { [stackLabel]: 'mop-sandbox' } });
    const members = Object.entries(doc.services).filter(([, svc]) => Object.keys(svc.networks ?? {}).includes(SOCKET_PROXY_NETWORK)).map(([n]) => n).sort();
    expect(members).toEqual(['alloy', SOCKET_PROXY]);
    // Without a known group (every other engine, `render --out`): root, which owns the socket there, still no capability.
    for (const other of [{ dockerSocket: '/var/run/docker.sock' }, { dockerSocket: '/run/podman/podman.sock' }]) {
      const p = composeDocument(stack, { engine: { disableSelinuxLabels: false, cpuLimits: true, ...other } }).services[SOCKET_PROXY];
      expect(p.user, JSON.stringify(other)).toBe('0:0');
      expect(p.group_add).toBeUndefined();
      expect(p).toMatchObject({ read_only: true, cap_drop: ['ALL'] });
      expect(p.cap_add).toBeUndefined();
    }
  });

  it('Alloy holds no Docker socket: uid 473, no group, its Docker API is the socket proxy, started first; its volume is given to it', () => {
    for (const engine of [
      { dockerSocket: '/var/run/docker.sock', dockerSocketGroup: 105, disableSelinuxLabels: false, cpuLimits: true },
      { dockerSocket: '/var/run/docker.sock', disableSelinuxLabels: false, cpuLimits: true },
      { dockerSocket: '/run/podman/podman.sock', disableSelinuxLabels: true, cpuLimits: true },
      { dockerSocket: undefined, disableSelinuxLabels: false, cpuLimits: true },
    ]) {
      for (const store of ['minio', 'seaweedfs', 'external'] as const) {
        const stack = buildStack({ store, ...(store === 'external' ? { s3Endpoint: 's3.example:443' } : {}) });
        const doc = composeDocument(stack, { engine });
        const alloy = doc.services.alloy;
        const what = `${store} ${JSON.stringify(engine)}`;
        expect(alloy.user, what).toBe('473:473');
        expect(alloy.group_add, what).toBeUndefined();
        expect(alloy.cap_add, what).toBeUndefined();
        expect(alloy.cap_drop, what).toEqual(['ALL']);
        expect((alloy.volumes ?? []).filter((v) => v.type === 'bind' && !v.source.includes('/config/alloy/')), what).toEqual([]);
        expect(alloy.environment![DOCKER_HOST_ENV], what).toBe(`tcp://${SOCKET_PROXY}:${SOCKET_PROXY_PORT}`);
        if (engine.dockerSocket) {
          expect(alloy.depends_on![SOCKET_PROXY], what).toEqual({ condition: 'service_started' });
          expect(Object.keys(alloy.networks!).sort(), what).toEqual(['default', SOCKET_PROXY_NETWORK]);
        }
        // A volume an earlier root run wrote holds root's files: the ownership step gives all of it to uid 473, every time.
        expect(alloy.depends_on![DATA_OWNER_SERVICE], what).toEqual({ condition: 'service_completed_successfully' });
        expect(doc.services[DATA_OWNER_SERVICE].command![0], what).toContain('chown -R 473:473 /own/alloy || exit 1');
        expect(doc.services[DATA_OWNER_SERVICE].volumes, what).toContainEqual({ type: 'volume', source: 'alloy-data', target: '/own/alloy' });
      }
    }
  });

  it('runs every component as non-root except OBI (eBPF), each with its reason in the model; the socket proxy and the ownership step are root only where they must be', () => {
    const stack = buildStack({ obi: true, store: 'minio' });
    const doc = composeDocument(stack);
    const root = Object.entries(doc.services).filter(([, s]) => s.user!.split(':')[0] === '0').map(([n]) => n).sort();
    // The default render (`render --out`) cannot know the socket's group: the proxy runs as root (see above).
    expect(root).toEqual(['data-owner', 'obi', SOCKET_PROXY]);
    expect(doc.services.grafana.cap_add).toBeUndefined();
    for (const c of stack.components) if (userOn(c, 'compose').startsWith('0:')) expect(c.rootBecause, c.name).toBeTruthy();
    for (const c of buildStack({ store: 'seaweedfs' }).components) expect(userOn(c, 'compose').startsWith('0:'), c.name).toBe(false);
    const grouped = composeDocument(stack, { engine: { dockerSocket: '/var/run/docker.sock', dockerSocketGroup: 105, disableSelinuxLabels: false, cpuLimits: true } });
    expect(Object.entries(grouped.services).filter(([, s]) => s.user!.split(':')[0] === '0').map(([n]) => n).sort()).toEqual(['data-owner', 'obi']);
  });

  it('the socket proxy reads exactly the settings the render gives it', () => {
    const script = readFileSync(join(configDir, 'socket-proxy', 'socket-proxy.mjs'), 'utf8');
    const read = [...new Set([...script.matchAll(/process\.env\.([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]))].sort();
    // MOP_SOCKET_PROXY_HOST is for running it by hand (tests bind 127.0.0.1); in the stack it listens on its network.
    expect(read).toEqual([...Object.keys(composeDocument(buildStack()).services[SOCKET_PROXY].environment!), 'MOP_SOCKET_PROXY_HOST'].sort());
  });

  it('gives non-root components whose image lacks an owned data directory their volume through a one-shot ownership step', () => {
    const stack = buildStack();
    const doc = composeDocument(stack);
    const owner = doc.services[DATA_OWNER_SERVICE];
    // Store (Silo) and Mimir: their images have no /data owned by the user they run as.
    expect(owner.volumes!.map((v) => v.source).sort()).toEqual(['alloy-data', 'mimir-data', 'store-data']);
    expect(owner).toMatchObject({ user: '0:0', cap_drop: ['ALL'], cap_add: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'], network_mode: 'none', restart: 'no' });
    expect(owner.command![0]).toContain('chown -R 1000:1000 /own/store');
    expect(owner.command![0]).toContain('chown -R 10001:10001 /own/mimir');
    expect(doc.services.store.depends_on![DATA_OWNER_SERVICE]).toEqual({ condition: 'service_completed_successfully' });
    expect(doc.services.mimir.depends_on![DATA_OWNER_SERVICE]).toEqual({ condition: 'service_completed_successfully' });
    expect(doc.services.tempo.depends_on![DATA_OWNER_SERVICE]).toBeUndefined();
    expect(owner.image).toBe(stack.components.find((c) => c.name === 'buckets')!.image);
  });

  it('labels the network and volumes with the stack label too', () => {
    const doc = composeDocument(buildStack(), { projectName: 'proj-b' });
    expect(doc.networks.default.labels).toEqual({ [stackLabel]: 'proj-b' });
    for (const v of Object.values(doc.volumes!)) expect(v.labels[stackLabel]).toBe('proj-b');
  });

  it('the store console is off unless asked for', () => {
    for (const store of ['minio', 'seaweedfs'] as const) {
      const off = buildStack({ store });
      expect(off.published.map((p) => `${p.component}.${p.name}`), store).not.toContain('store.console');
      const on = buildStack({ store, storeConsole: true });
      expect(on.published.map((p) => `${p.component}.${p.name}`), store).toContain('store.console');
    }
    expect(buildStack({ store: 'minio' }).components.find((c) => c.name === 'store')!.env.MINIO_BROWSER).toBe('off');
    expect(buildStack({ store: 'seaweedfs' }).components.find((c) => c.name === 'store')!.args[0]).toContain('-admin.ui=false');
  });

  it('converts Kubernetes quantities to docker units', () => {
    expect(composeMemory('512Mi')).toBe('512M');
    expect(composeMemory('1Gi')).toBe('1G');
    expect(composeMemory('1536Mi')).toBe('1536M');
    expect(composeMemory('64Ki')).toBe('64K');
  });

  it('fails clearly when a config file the model names is missing', () => {
    const dir = tempDir('sources');
    cpSync(configDir, join(dir, 'config'), { recursive: true });
    rmSync(join(dir, 'config', 'tempo', 'tempo.yaml'));
    mkdirSync(join(dir, 'dashboards'));
    const err = (() => {
      try {
        composeDocument(buildStack(), { sources: { config: join(dir, 'config'), dashboards: join(dir, 'dashboards') } });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).what).toBe('config/tempo/tempo.yaml is missing (tempo needs it)');
  });

  it('writes a .env with every required variable', () => {
    const env = renderEnvFile(fakeCredentials);
    for (const n of secretNames) expect(env).toContain(`${secretEnvName(n)}=${fakeCredentials[n]}\n`);
  });

  it.skipIf(!v2.ok)('passes `docker compose config -q` (compose v2) for every variant, and with start_interval', async () => {
    const dir = join(packageRoot, 'compose'); // relative paths resolve like the committed file's
    const cases = [
      ...variants.map((o) => ({ opts: o, startInterval: false, engine: undefined })),
      { opts: variants[0], startInterval: true, engine: undefined },
      ...engineVariants.map((engine) => ({ opts: variants[0], startInterval: false, engine })),
    ];
    const results = await Promise.all(
      cases.map(async ({ opts, startInterval, engine }) => {
        const file = join(tempDir('compose'), 'docker-compose.yml');
        writeFileSync(file, renderCompose(stackOf(opts), { startInterval, engine }));
        const r = await execFileAsync('docker', ['compose', '--project-directory', dir, '-f', file, 'config', '-q'], {
          env: { ...process.env, ...credentialEnv },
        }).then(
          (x) => ({ code: 0, stderr: x.stderr }),
          (e) => ({ code: e.code ?? 1, stderr: String(e.stderr) }),
        );
        return { name: `${label(opts)} startInterval=${startInterval} engine=${JSON.stringify(engine)}`, ...r };
      }),
    );
    expect(results.filter((r) => r.code !== 0 || r.stderr)).toEqual([]);
  });

  it.skipIf(!v2.ok)('without credentials, `docker compose config` names the missing variable and how to set it', () => {
    const file = join(tempDir('compose'), 'docker-compose.yml');
    writeFileSync(file, renderCompose(buildStack()));
    const env = { ...process.env };
    for (const n of secretNames) delete env[secretEnvName(n)];
    const r = spawnSync('docker', ['compose', '--project-directory', join(packageRoot, 'compose'), '-f', file, 'config', '-q'], { encoding: 'utf8', env });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/MOP_\w+ is missing a value: is not set: run mop-sandbox up once or put it in the \.env file/);
  });

  it('a self-contained render holds the compose file, a 0600 .env and the files it mounts', () => {
    const files = composeRenderFiles({ stack: buildStack(), credentials: fakeCredentials, buildContext: '/opt/mop' });
    const paths = files.map((f) => f.path);
    expect(paths).toContain('docker-compose.yml');
    expect(files.find((f) => f.path === '.env')!.mode).toBe(0o600);
    expect(paths).toContain('config/tempo/tempo.yaml');
    expect(paths).toContain('config/alloy/logs-docker.alloy');
    expect(paths).not.toContain('config/alloy/logs-kubernetes.alloy');
    const doc = parse(String(files.find((f) => f.path === 'docker-compose.yml')!.content));
    expect(doc.services.tempo.volumes).toContainEqual({ type: 'bind', source: './config/tempo/tempo.yaml', target: '/etc/tempo/tempo.yaml', read_only: true });
    expect(doc.services.demo.build.context).toBe('/opt/mop');
    expect(doc.services.grafana.volumes).toContainEqual({ type: 'bind', source: './dashboards', target: '/etc/mop/dashboards', read_only: true });
  });
});
