/**
 * The stack model: the only place that knows a component's image, ports, health check, data directory,
 * user, dependencies, config files, environment and resources. Renderers, runtimes and commands read it.
 */
import { grafanaPlugins, images, imageRef, type ImageKey, type ImagePin } from './versions.js';
import { quantityBytes } from './quantities.js';
import { DOCKER_HOST_ENV, socketProxyDockerHost } from './socket-proxy.js';
import { frontedPorts, GATEWAY, gatewayPortName, gatewayRoutes, isFronted } from './gateway.js';
import { fallbackResources, profiles, type Profile, type ProfileName, type ResourceSpec, type ScaledComponent } from './profiles.js';

export type RuntimeName = 'compose' | 'kind';
export const runtimeNames: RuntimeName[] = ['compose', 'kind'];

export type ComponentName = 'store' | 'buckets' | 'tempo' | 'mimir' | 'loki' | 'alloy' | 'grafana' | 'demo' | 'obi' | 'gateway';

export type StoreKind = 'minio' | 'seaweedfs' | 'external';
export const storeKinds: StoreKind[] = ['minio', 'seaweedfs', 'external'];

/** The components that keep data in the object store; on a bundled store each gets its own S3 user. */
export const s3Backends = ['tempo', 'mimir', 'loki'] as const;
export type S3Backend = (typeof s3Backends)[number];

/**
 * Credentials generated on first `up` and kept in the state file (mode 0600). Never printed unless asked.
 * S3_ACCESS_KEY_ID/S3_SECRET_ACCESS_KEY are the store's root pair (only the store and the bucket job see them);
 * S3_<BACKEND>_* are each backend's own user, limited to its buckets.
 */
export const secretNames = [
  'GRAFANA_ADMIN_PASSWORD',
  'S3_ACCESS_KEY_ID',
  'S3_SECRET_ACCESS_KEY',
  'S3_TEMPO_ACCESS_KEY_ID',
  'S3_TEMPO_SECRET_ACCESS_KEY',
  'S3_MIMIR_ACCESS_KEY_ID',
  'S3_MIMIR_SECRET_ACCESS_KEY',
  'S3_LOKI_ACCESS_KEY_ID',
  'S3_LOKI_SECRET_ACCESS_KEY',
  'DEMO_CONTROL_TOKEN',
] as const satisfies readonly (string)[];
export type SecretName = (typeof secretNames)[number];

/** A backend's own S3 key pair. */
export const backendSecrets = (b: S3Backend) =>
  ({
    accessKeyId: `S3_${b.toUpperCase()}_ACCESS_KEY_ID`,
    secretAccessKey: `S3_${b.toUpperCase()}_SECRET_ACCESS_KEY`,
  }) as { accessKeyId: SecretName; secretAccessKey: SecretName };

/** Whether a credential is an S3 access key id (short, lowercase: some stores limit key ids). */
export const isAccessKeyId = (name: SecretName) => name.endsWith('ACCESS_KEY_ID');

export interface PortSpec {
  name: string;
  port: number;
  /** Published on the host (127.0.0.1 by default). */
  publish: boolean;
  protocol: 'http' | 'grpc' | 's3' | 'gossip';
  description: string;
}

export interface HttpProbe {
  port: number;
  path: string;
}

export interface ConfigFile {
  /** Path under config/ (or dashboards/ when `from` is 'dashboards'). */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  /** Only mounted in these runtimes (default: all). */
  runtimes?: RuntimeName[];
  from?: 'config' | 'dashboards';
  /** Reads the Docker socket: left out (no container-log collection) when the engine's socket cannot be mounted. */
  needsDockerSocket?: boolean;
}

/** An environment value: a literal, or a generated credential. */
export type EnvValue = string | { secret: SecretName };

export interface Dependency {
  name: ComponentName;
  condition: 'started' | 'healthy' | 'completed';
}

export interface Component {
  name: ComponentName;
  title: string;
  image: string;
  /** Built locally instead of pulled (the demo app). */
  build?: { dockerfile: string };
  /** Overrides the image's entrypoint (rarely needed). */
  entrypoint?: string[];
  args: string[];
  /** Extra args per runtime (for example Alloy clustering on Kubernetes). */
  runtimeArgs?: Partial<Record<RuntimeName, string[]>>;
  /** Environment that differs per runtime, replacing `env` entries of the same name (OBI's OTLP endpoint across namespaces on kind). */
  runtimeEnv?: Partial<Record<RuntimeName, Record<string, EnvValue>>>;
  ports: PortSpec[];
  /** HTTP readiness endpoint, checked from the host and used as the Kubernetes readiness probe. */
  readiness?: HttpProbe;
  /** In-container health command for compose (images without a shell cannot have one). */
  healthcheck?: string[];
  /** The URL path a person opens (`mop-sandbox open <name>`), on the first published http port. */
  uiPath?: string;
  dataDir?: string;
  /** uid:gid the component runs as; data volumes must be writable by it. Non-root unless `rootBecause` says why not. */
  user: string;
  /** Per-runtime user where a runtime needs another. */
  runtimeUser?: Partial<Record<RuntimeName, string>>;
  /** Why this component runs as root on some runtime (shown in the README's security notes; tests require it). */
  rootBecause?: string;
  /**
   * The image has no `dataDir` owned by `user`, so a fresh compose volume is root-owned: compose runs a one-shot
   * ownership step first. (On Kubernetes, fsGroup and kind's 0777 local-path volumes make it writable.)
   */
  dataDirNeedsOwner?: boolean;
  /** Ports of other components this one connects to (NetworkPolicies on Kubernetes allow exactly these). */
  talksTo: PortRef[];
  dependsOn: Dependency[];
  configFiles: ConfigFile[];
  env: Record<string, EnvValue>;
  resources: ResourceSpec;
  /** Free disk its data needs where the engine keeps volumes (profile `disk`), e.g. "1Gi"; none for stateless ones. */
  diskNeed?: string;
  replicas: number;
  workload: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Job';
  /** Needs the Docker socket (compose) or pod-log RBAC (Kubernetes) to collect logs. */
  collectsLogs?: boolean;
  privileged?: boolean;
  hostPid?: boolean;
  /**
   * On compose, share this component's PID namespace instead of the host's (OBI's documented sidecar mode): it then
   * sees the demo's processes only, never another process of the host that listens on the same ports.
   */
  composePidOf?: ComponentName;
  /** Runs once and exits (bucket creation). */
  oneShot?: boolean;
  /**
   * The name replicas find each other by for memberlist gossip: a compose network alias and, on Kubernetes,
   * a headless Service that lists every pod, ready or not (replicas must join before they can be ready).
   */
  gossipService?: string;
}

/** A named port of a component: `{ name: 'loki', port: 'http' }`. */
export interface PortRef {
  name: ComponentName;
  port: string;
}

export interface Bucket {
  name: string;
  usedBy: ComponentName;
}

export interface StackOptions {
  profile?: ProfileName;
  store?: StoreKind;
  /** External S3 (store 'external'): host:port, no scheme. */
  s3Endpoint?: string;
  s3Insecure?: boolean;
  s3Region?: string;
  /** Prefix for every pulled image, e.g. "mirror.example.com/" or "localhost:5000/". */
  registryMirror?: string;
  /** Per-component image override, e.g. { grafana: "grafana/grafana@sha256:..." }. */
  imageOverrides?: Partial<Record<ComponentName, string>>;
  /** Host port per component port name, e.g. { "grafana.http": 3001 }. */
  hostPorts?: Record<string, number>;
  /** Memory limit per component, replacing the profile's (Kubernetes quantity), e.g. { tempo: "2Gi" }. */
  memoryLimits?: Partial<Record<ComponentName, string>>;
  /** Address published ports bind to. */
  bindAddress?: string;
  multitenancy?: boolean;
  tenant?: string;
  obi?: boolean;
  demo?: boolean;
  /** Collect logs of every container on the engine (every namespace on kind), not only this stack's. Default false. */
  collectAllLogs?: boolean;
  /** Run and publish the object store's web console. Default false. */
  storeConsole?: boolean;
}

export interface PublishedPort {
  component: ComponentName;
  name: string;
  /** The component's port; the publisher listens on the same number. */
  containerPort: number;
  /** Who listens on the host port: the component itself, or the gateway that checks Host and Origin for it (gateway.ts). */
  publisher: ComponentName;
  hostPort: number;
  hostIp: string;
  protocol: PortSpec['protocol'];
}

export interface Stack {
  profile: Profile;
  store: StoreKind;
  s3: { endpoint: string; insecure: boolean; region: string };
  buckets: Bucket[];
  multitenancy: boolean;
  tenant: string;
  bindAddress: string;
  /** Log collection reaches beyond this stack (opt-in). */
  collectAllLogs: boolean;
  /** Each backend has its own S3 user limited to its buckets (bundled stores; an external store gets the given pair). */
  backendUsers: boolean;
  components: Component[];
  published: PublishedPort[];
}

/**
 * The label every container, volume and network of a stack carries, valued with the stack's id (the compose project
 * name). `down`, orphan checks and Alloy's log discovery select on it, so another project that happens to share the
 * compose project name is never touched or read. One constant for every runtime and command that selects by label.
 */
export const stackLabel = 'dev.mop-sandbox.stack';

/**
 * The labels every Kubernetes object of ours carries (Kubernetes' recommended labels; the Docker objects of compose
 * carry `stackLabel` instead): the owner label (`app.kubernetes.io/part-of=mop-sandbox`)
 * is how `down`, prune and cleanup find what is ours and nothing else; the component label names the component.
 */
export const OWNER_LABEL = { key: 'app.kubernetes.io/part-of', value: 'mop-sandbox' } as const;
export const COMPONENT_LABEL = 'app.kubernetes.io/name';
/** On cluster-scoped objects (ClusterRole, ClusterRoleBinding): the namespace they serve, so cleanup of one namespace spares the others'. */
export const NAMESPACE_LABEL = 'mop-sandbox/namespace';

/** A stack's id (its compose project name) unless MOP_PROJECT names another. */
export const defaultStackId = 'mop-sandbox';

/** The environment variable that tells Alloy which stack's containers are its own (set per project by the compose render). */
export const stackIdEnv = 'MOP_STACK_ID';

/** Where components reach each other: the same short names in compose and in the Kubernetes namespace. */
export const serviceUrl = (name: ComponentName, port: number, scheme = 'http') => `${scheme}://${name}:${port}`;

export const buckets: Bucket[] = [
  { name: 'tempo', usedBy: 'tempo' },
  { name: 'mimir', usedBy: 'mimir' },
  { name: 'loki', usedBy: 'loki' },
  { name: 'loki-ruler', usedBy: 'loki' },
];

/** Ports, defined once. Config files use the same numbers; a test checks every host:port they name. */
export const ports = {
  alloy: { otlpGrpc: 4317, otlpHttp: 4318, http: 12345 },
  tempo: { http: 3200, grpc: 9095, otlpGrpc: 4317, otlpHttp: 4318, gossip: 7946 },
  mimir: { http: 8080, grpc: 9095, gossip: 7946 },
  loki: { http: 3100, grpc: 9095, gossip: 7946 },
  grafana: { http: 3000 },
  store: { s3: 9000, console: 9001 },
  demo: { http: 8090, control: 8099 },
  obi: { metrics: 6060 },
} as const;

/**
 * Copies of each series (Mimir) or stream (Loki) the ring keeps. Writes need a quorum of floor(RF/2)+1 and
 * reads ask the same quorum, so RF 3 on 3 or more replicas keeps both working while one pod restarts; with
 * fewer replicas only RF 1 can work (RF 2 on 2 replicas needs both for every write).
 */
export function ringReplicationFactor(replicas: number): number {
  return replicas >= 3 ? 3 : 1;
}

/**
 * GOMEMLIMIT for a Go component: 80% of its memory limit, so the runtime collects garbage harder before the
 * kernel's OOM killer (the same share Tempo's automemlimit uses), leaving room for non-heap memory.
 */
export function goMemLimit(limit: string): string {
  return `${Math.floor((quantityBytes(limit) * 0.8) / 2 ** 20)}MiB`;
}

/** Grafana's start script (config/grafana/start.sh), outside the provisioning folders Grafana reads. */
const GRAFANA_START = '/etc/mop/grafana/start.sh';

function pin(key: ImageKey): ImagePin {
  return images[key];
}

interface StoreChoices {
  /** Run and publish the web console / admin UI. */
  console: boolean;
  /** Give each backend its own S3 user. */
  backendUsers: boolean;
}

/** Double-quoted shell text: `$VAR` still expands, everything else is literal. */
const shellDoubleQuoted = (s: string) => `"${s.replace(/[\\"`]/g, (c) => `\\${c}`)}"`;

function backendEnv(): Record<string, EnvValue> {
  const env: Record<string, EnvValue> = {};
  for (const b of s3Backends) {
    const k = backendSecrets(b);
    env[k.accessKeyId] = { secret: k.accessKeyId };
    env[k.secretAccessKey] = { secret: k.secretAccessKey };
  }
  return env;
}

const bucketsOf = (b: S3Backend) => buckets.filter((x) => x.usedBy === b).map((x) => x.name);

/**
 * SeaweedFS identities (weed/s3api/auth_credentials.go at 4.43: a `-s3.config` file's identities are loaded, then
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY are merged in as the admin identity). Each backend may only read, write,
 * list and tag its own buckets ("Action:bucket", weed/s3api/s3_constants/s3_actions.go).
 */
function seaweedIdentities(): string {
  const identities = s3Backends.map((b) => {
    const k = backendSecrets(b);
    return {
      name: b,
      credentials: [{ accessKey: `\${${k.accessKeyId}}`, secretKey: `\${${k.secretAccessKey}}` }],
      actions: bucketsOf(b).flatMap((bucket) => ['Read', 'Write', 'List', 'Tagging'].map((a) => `${a}:${bucket}`)),
    };
  });
  return JSON.stringify({ identities });
}

function storeComponent(kind: Exclude<StoreKind, 'external'>, choices: StoreChoices): Omit<Component, 'resources' | 'replicas'> {
  const s3Port: PortSpec = { name: 's3', port: ports.store.s3, publish: true, protocol: 's3', description: 'S3 API' };
  const common = {
    name: 'store' as const,
    dataDir: '/data',
    dependsOn: [],
    configFiles: [],
    talksTo: [],
    workload: 'StatefulSet' as const,
  };
  if (kind === 'minio') {
    return {
      ...common,
      title: 'Object storage (Silo, the maintained MinIO fork)',
      image: imageRef(pin('minio')),
      ports: [s3Port, ...(choices.console ? [{ name: 'console', port: ports.store.console, publish: true, protocol: 'http' as const, description: 'web console' }] : [])],
      args: ['server', '/data', '--address', `:${ports.store.s3}`, ...(choices.console ? ['--console-address', `:${ports.store.console}`] : [])],
      readiness: { port: ports.store.s3, path: '/minio/health/ready' },
      uiPath: '/',
      // The image (pgsty/minio Dockerfile.goreleaser: ubi-micro, no USER) runs as root by default but needs nothing
      // of root: any uid that owns /data works. Its /data is a root-owned VOLUME, hence the ownership step.
      user: '1000:1000',
      dataDirNeedsOwner: true,
      env: {
        MINIO_ROOT_USER: { secret: 'S3_ACCESS_KEY_ID' },
        MINIO_ROOT_PASSWORD: { secret: 'S3_SECRET_ACCESS_KEY' },
        // Alloy scrapes /minio/v2/metrics/cluster without a token (a Prometheus bearer token would be one more
        // secret for a metrics-only endpoint; the S3 port is loopback-only on the host).
        MINIO_PROMETHEUS_AUTH_TYPE: 'public',
        MINIO_UPDATE: 'off',
        // The console is off unless the storeConsole setting asks for it.
        ...(choices.console ? {} : { MINIO_BROWSER: 'off' }),
      },
    };
  }
  // `weed mini` (seaweedfs 4.43, weed/command/mini.go): master, volume, filer, S3 and admin UI in one
  // process. No telemetry to seaweedfs.com, no WebDAV, Iceberg or Lance listeners; admin UI only when asked for.
  const mini = [
    '/entrypoint.sh',
    'mini',
    '-dir=/data',
    `-s3.port=${ports.store.s3}`,
    choices.console ? `-admin.port=${ports.store.console}` : '-admin.ui=false',
    '-master.telemetry=false',
    '-webdav=false',
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    ...(choices.backendUsers ? ['-s3.config=/tmp/s3.json'] : []),
  ];
  // The identities file holds the backends' keys, so it is written at start from the environment (umask 077),
  // never rendered into a file on the host.
  const script = choices.backendUsers
    ? `umask 077 && printf '%s' ${shellDoubleQuoted(seaweedIdentities())} > /tmp/s3.json && exec ${mini.join(' ')}`
    : `exec ${mini.join(' ')}`;
  return {
    ...common,
    title: 'Object storage (SeaweedFS)',
    image: imageRef(pin('seaweedfs')),
    ports: [s3Port, ...(choices.console ? [{ name: 'console', port: ports.store.console, publish: true, protocol: 'http' as const, description: 'admin UI' }] : [])],
    entrypoint: ['/bin/sh', '-c'],
    args: [script],
    // The S3 server answers GET /healthz (also /status, /readyz) [weed/s3api/s3api_server.go].
    readiness: { port: ports.store.s3, path: '/healthz' },
    uiPath: '/',
    // The image's own user (docker/Dockerfile.go_build at 4.43: adduser -u 1000 seaweed; /data owned by it). Started
    // as that user, docker/entrypoint.sh skips its root-only chown and su-exec and runs weed directly.
    user: '1000:1000',
    env: {
      // The S3 gateway turns these into a static admin identity [weed/s3api/auth_credentials.go].
      AWS_ACCESS_KEY_ID: { secret: 'S3_ACCESS_KEY_ID' },
      AWS_SECRET_ACCESS_KEY: { secret: 'S3_SECRET_ACCESS_KEY' },
      ...(choices.console
        ? {
            // Admin UI login (empty password would disable auth); read through viper as admin.user /
            // admin.password [weed/command/mini.go applyMiniAdminCredentialFallback].
            WEED_ADMIN_USER: { secret: 'S3_ACCESS_KEY_ID' },
            WEED_ADMIN_PASSWORD: { secret: 'S3_SECRET_ACCESS_KEY' },
          }
        : {}),
      ...(choices.backendUsers ? backendEnv() : {}),
    },
  };
}

/** The bucket job's script: wait for the store, create the buckets, then (MinIO line) one user and policy per backend. */
function bucketScript(kind: StoreKind, backendUsers: boolean): string {
  const names = buckets.map((b) => b.name).join(' ');
  // mc retries until the store answers, then creates what is missing; safe to run on every `up`.
  const lines = [
    // Settings reach the shell as quoted variables, never as script text.
    'until mc alias set store "$S3_URL" "$S3_ACCESS_KEY_ID" "$S3_SECRET_ACCESS_KEY" >/dev/null; do echo "waiting for $S3_URL"; sleep 1; done',
    `for b in ${names}; do mc mb --ignore-existing "store/$b" || exit 1; done`,
  ];
  if (kind === 'minio' && backendUsers) {
    for (const b of s3Backends) {
      const k = backendSecrets(b);
      const policy = `mop-${b}`;
      const resources = bucketsOf(b).flatMap((x) => [`"arn:aws:s3:::${x}"`, `"arn:aws:s3:::${x}/*"`]).join(',');
      const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":[${resources}]}]}`;
      // user add updates the secret of an existing user; policy create replaces the document; attach refuses a
      // policy that is already attached, so that case is confirmed with user info instead.
      lines.push(
        `printf '%s' '${doc}' > /tmp/${policy}.json && mc admin user add store "$${k.accessKeyId}" "$${k.secretAccessKey}" >/dev/null && mc admin policy create store ${policy} /tmp/${policy}.json >/dev/null && { mc admin policy attach store ${policy} --user "$${k.accessKeyId}" >/dev/null 2>&1 || mc admin user info store "$${k.accessKeyId}" | grep -q ${policy}; } || { echo "cannot create the S3 user for ${b}"; exit 1; }`,
      );
    }
  }
  lines.push('echo "buckets ready"');
  return lines.join('; ');
}

function bucketJob(kind: StoreKind, s3: Stack['s3'], backendUsers: boolean): Omit<Component, 'resources' | 'replicas'> {
  const names = buckets.map((b) => b.name).join(' ');
  const scheme = s3.insecure ? 'http' : 'https';
  return {
    name: 'buckets',
    title: `Bucket creation (${names})`,
    image: imageRef(pin('mc')),
    entrypoint: ['/bin/sh', '-c'],
    args: [bucketScript(kind, backendUsers)],
    ports: [],
    // pgsty/mc (Dockerfile.release: ubi-micro, no USER) needs no root: mc only writes its alias file to MC_CONFIG_DIR.
    user: '65534:65534',
    dependsOn: kind === 'external' ? [] : [{ name: 'store', condition: 'started' }],
    configFiles: [],
    talksTo: kind === 'external' ? [] : [{ name: 'store', port: 's3' }],
    env: {
      S3_ACCESS_KEY_ID: { secret: 'S3_ACCESS_KEY_ID' },
      S3_SECRET_ACCESS_KEY: { secret: 'S3_SECRET_ACCESS_KEY' },
      S3_URL: `${scheme}://${s3.endpoint}`,
      ...(kind === 'minio' && backendUsers ? backendEnv() : {}),
      // mc keeps its alias file here instead of $HOME/.mc (HOME may be unset or read-only).
      MC_CONFIG_DIR: '/tmp/.mc',
    },
    workload: 'Job',
    oneShot: true,
  };
}

export function buildStack(opts: StackOptions = {}): Stack {
  const profile = profiles[opts.profile ?? 'default'];
  const store = opts.store ?? profile.objectStore;
  if (store === 'external' && !opts.s3Endpoint) {
    throw new Error('store "external" needs an S3 endpoint (host:port)');
  }
  const s3 = {
    endpoint: store === 'external' ? opts.s3Endpoint! : `store:${ports.store.s3}`,
    insecure: opts.s3Insecure ?? store !== 'external',
    region: opts.s3Region ?? 'us-east-1',
  };
  const multitenancy = opts.multitenancy ?? false;
  const tenant = opts.tenant ?? (multitenancy ? 'mop' : 'anonymous');
  // A bundled store is ours to administer: each backend gets its own user. An external store's users are the
  // operator's business; every backend then uses the one pair it was given.
  const backendUsers = store !== 'external';
  const collectAllLogs = opts.collectAllLogs ?? false;
  // Each backend sees only its own key pair, under the names its config reads.
  const withS3 = (backend: S3Backend): Record<string, EnvValue> => {
    const k = backendUsers ? backendSecrets(backend) : { accessKeyId: 'S3_ACCESS_KEY_ID' as const, secretAccessKey: 'S3_SECRET_ACCESS_KEY' as const };
    return {
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: { secret: k.accessKeyId },
      S3_SECRET_ACCESS_KEY: { secret: k.secretAccessKey },
      S3_INSECURE: String(s3.insecure),
      S3_REGION: s3.region,
    };
  };
  const toStore: PortRef[] = store === 'external' ? [] : [{ name: 'store', port: 's3' }];
  const tenancyEnv = { MOP_MULTITENANCY_ENABLED: String(multitenancy), MOP_TENANT: tenant };
  // The backends start after the bucket job, not beside the store: each reads its bucket, with its own S3 user (the
  // job creates both), while it starts, and exits when that fails instead of waiting for it. Tempo 3.0.3 lists the
  // bucket once and gives up (tempodb/backend/s3/s3.go:148-151, called from tempodb/tempodb.go:190); Loki 3.7.x opens
  // the compactor's delete-request store, a GetObject retried 5 times over about 3 s, then fails the compactor
  // (v3.7.6 pkg/compactor/compactor.go:222, deletion/delete_requests_db_boltdb.go:75, chunk/client/aws/
  // s3_storage_client.go:134,458); Mimir's store-gateway fails its start when the initial blocks sync still fails
  // after its few retries (pkg/storegateway/gateway.go starting, "initial blocks synchronization"). Started beside
  // the store, a backend would win or lose a race of seconds against the store's start and the job.
  const afterBuckets: Dependency[] = [{ name: 'buckets', condition: 'completed' }];
  // Mimir and Loki: ring replication from the profile's replica count, and a Go memory limit inside the container's.
  const ringEnv = (name: 'mimir' | 'loki'): Record<string, string> => ({
    RING_REPLICATION_FACTOR: String(ringReplicationFactor(profile.replicas[name])),
    GOMEMLIMIT: goMemLimit((profile.resources[name] ?? fallbackResources).limits.memory),
  });

  const defs: Omit<Component, 'resources' | 'replicas'>[] = [];
  if (store !== 'external') defs.push(storeComponent(store, { console: opts.storeConsole ?? false, backendUsers }));
  defs.push(bucketJob(store, s3, backendUsers));
  defs.push(
    {
      name: 'tempo',
      title: 'Tempo (traces)',
      image: imageRef(pin('tempo')),
      args: ['-config.file=/etc/tempo/tempo.yaml', '-config.expand-env=true'],
      ports: [
        { name: 'http', port: ports.tempo.http, publish: true, protocol: 'http', description: 'HTTP API' },
        { name: 'grpc', port: ports.tempo.grpc, publish: false, protocol: 'grpc', description: 'gRPC' },
        { name: 'otlp-grpc', port: ports.tempo.otlpGrpc, publish: false, protocol: 'grpc', description: 'OTLP gRPC (from Alloy)' },
        { name: 'otlp-http', port: ports.tempo.otlpHttp, publish: false, protocol: 'http', description: 'OTLP HTTP' },
      ],
      readiness: { port: ports.tempo.http, path: '/ready' },
      healthcheck: ['/tempo', '-health'],
      dataDir: '/var/tempo',
      user: '10001:10001',
      dependsOn: afterBuckets,
      configFiles: [{ source: 'tempo/tempo.yaml', target: '/etc/tempo/tempo.yaml' }],
      // The metrics generator remote-writes span metrics and the service graph into Mimir.
      talksTo: [...toStore, { name: 'mimir', port: 'http' }],
      env: { ...withS3('tempo'), ...tenancyEnv },
      workload: 'StatefulSet',
    },
    {
      name: 'mimir',
      title: 'Mimir (metrics)',
      image: imageRef(pin('mimir')),
      args: ['-config.file=/etc/mimir/mimir.yaml', '-config.expand-env=true'],
      ports: [
        { name: 'http', port: ports.mimir.http, publish: true, protocol: 'http', description: 'HTTP API (Prometheus API under /prometheus)' },
        { name: 'grpc', port: ports.mimir.grpc, publish: false, protocol: 'grpc', description: 'gRPC' },
        { name: 'gossip', port: ports.mimir.gossip, publish: false, protocol: 'gossip', description: 'memberlist' },
      ],
      readiness: { port: ports.mimir.http, path: '/ready' },
      dataDir: '/data',
      // grafana/mimir (cmd/mimir/Dockerfile: distroless static, no USER) needs no root; /data does not exist in the
      // image, so a fresh volume is root-owned and needs the ownership step.
      user: '10001:10001',
      dataDirNeedsOwner: true,
      dependsOn: afterBuckets,
      configFiles: [{ source: 'mimir/mimir.yaml', target: '/etc/mimir/mimir.yaml' }],
      talksTo: [...toStore],
      env: { ...withS3('mimir'), ...tenancyEnv, ...ringEnv('mimir') },
      workload: 'StatefulSet',
      gossipService: 'mimir-gossip',
    },
    {
      name: 'loki',
      title: 'Loki (logs)',
      image: imageRef(pin('loki')),
      args: ['-config.file=/etc/loki/loki.yaml', '-config.expand-env=true'],
      ports: [
        { name: 'http', port: ports.loki.http, publish: true, protocol: 'http', description: 'HTTP API' },
        { name: 'grpc', port: ports.loki.grpc, publish: false, protocol: 'grpc', description: 'gRPC' },
        { name: 'gossip', port: ports.loki.gossip, publish: false, protocol: 'gossip', description: 'memberlist' },
      ],
      readiness: { port: ports.loki.http, path: '/ready' },
      healthcheck: ['/usr/bin/loki', '-health'],
      dataDir: '/loki',
      user: '10001:10001',
      dependsOn: afterBuckets,
      configFiles: [{ source: 'loki/loki.yaml', target: '/etc/loki/loki.yaml' }],
      talksTo: [...toStore],
      env: { ...withS3('loki'), ...tenancyEnv, ...ringEnv('loki') },
      workload: 'StatefulSet',
      gossipService: 'loki-gossip',
    },
    {
      name: 'alloy',
      title: 'Alloy (OTLP in, routing)',
      image: imageRef(pin('alloy')),
      args: [
        'run',
        `--server.http.listen-addr=0.0.0.0:${ports.alloy.http}`,
        '--storage.path=/var/lib/alloy/data',
        '/etc/alloy',
      ],
      runtimeArgs: {
        kind: ['--cluster.enabled=true', `--cluster.join-addresses=alloy-cluster:${ports.alloy.http}`],
      },
      ports: [
        { name: 'otlp-grpc', port: ports.alloy.otlpGrpc, publish: true, protocol: 'grpc', description: 'OTLP gRPC' },
        { name: 'otlp-http', port: ports.alloy.otlpHttp, publish: true, protocol: 'http', description: 'OTLP HTTP' },
        { name: 'http', port: ports.alloy.http, publish: true, protocol: 'http', description: 'UI and metrics' },
      ],
      readiness: { port: ports.alloy.http, path: '/-/ready' },
      // The image has bash but no curl or wget.
      healthcheck: [
        'bash',
        '-c',
        `exec 3<>/dev/tcp/127.0.0.1/${ports.alloy.http} && printf 'GET /-/ready HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q ' 200 ' <&3`,
      ],
      uiPath: '/',
      dataDir: '/var/lib/alloy/data',
      // The image's alloy user (grafana/alloy Dockerfile: uid 473, owns /var/lib/alloy), on every runtime. On compose
      // Alloy reads the Docker API through the socket proxy (socket-proxy.ts), never the socket itself.
      user: '473:473',
      dependsOn: [
        { name: 'tempo', condition: 'started' },
        { name: 'mimir', condition: 'started' },
        { name: 'loki', condition: 'started' },
      ],
      configFiles: [
        { source: 'alloy/config.alloy', target: '/etc/alloy/config.alloy' },
        { source: 'alloy/logs-docker.alloy', target: '/etc/alloy/logs-docker.alloy', runtimes: ['compose'], needsDockerSocket: true },
        { source: 'alloy/logs-kubernetes.alloy', target: '/etc/alloy/logs-kubernetes.alloy', runtimes: ['kind'] },
        // Which containers or pods are discovered: this stack's own (default), or everything (collectAllLogs).
        ...logDiscoveryFiles(collectAllLogs),
        { source: 'alloy/stack-compose.alloy', target: '/etc/alloy/stack-compose.alloy', runtimes: ['compose'] },
        { source: 'alloy/stack-kubernetes.alloy', target: '/etc/alloy/stack-kubernetes.alloy', runtimes: ['kind'] },
      ],
      // Scrapes every component's metrics (config.alloy) and pushes into the backends.
      talksTo: [
        { name: 'tempo', port: 'otlp-grpc' },
        { name: 'tempo', port: 'http' },
        { name: 'mimir', port: 'http' },
        { name: 'loki', port: 'http' },
        { name: 'grafana', port: 'http' },
        ...(store === 'minio' ? toStore : []),
      ],
      // MOP_STORE picks the object store scrape in stack-*.alloy (only the MinIO line is scraped).
      env: { ...tenancyEnv, MOP_STORE: store, [stackIdEnv]: defaultStackId },
      // Where the docker configs (compose only) reach the Docker API: the socket proxy.
      runtimeEnv: { compose: { [DOCKER_HOST_ENV]: socketProxyDockerHost } },
      // A StatefulSet on Kubernetes: each replica keeps its data directory (log read positions, WAL) on its own
      // volume, so a restarted replica goes on where it stopped instead of re-reading every container log.
      workload: 'StatefulSet',
      collectsLogs: true,
    },
    {
      name: 'grafana',
      title: 'Grafana',
      image: imageRef(pin('grafana')),
      // Installs the pinned Drilldown apps when missing, then runs the image's /run.sh (see the script).
      entrypoint: ['/bin/sh', GRAFANA_START],
      args: [],
      ports: [{ name: 'http', port: ports.grafana.http, publish: true, protocol: 'http', description: 'web UI' }],
      readiness: { port: ports.grafana.http, path: '/api/health' },
      healthcheck: ['wget', '-q', '-O', '/dev/null', `http://127.0.0.1:${ports.grafana.http}/api/health`],
      uiPath: '/',
      dataDir: '/var/lib/grafana',
      user: '472:0',
      dependsOn: [
        { name: 'mimir', condition: 'started' },
        { name: 'tempo', condition: 'started' },
        { name: 'loki', condition: 'started' },
      ],
      talksTo: [
        { name: 'mimir', port: 'http' },
        { name: 'tempo', port: 'http' },
        { name: 'loki', port: 'http' },
      ],
      configFiles: [
        { source: 'grafana/provisioning/datasources/datasources.yaml', target: '/etc/grafana/provisioning/datasources/datasources.yaml' },
        { source: 'grafana/provisioning/dashboards/dashboards.yaml', target: '/etc/grafana/provisioning/dashboards/dashboards.yaml' },
        { source: 'grafana/start.sh', target: GRAFANA_START },
      ],
      env: {
        GF_SECURITY_ADMIN_USER: 'admin',
        GF_SECURITY_ADMIN_PASSWORD: { secret: 'GRAFANA_ADMIN_PASSWORD' },
        GF_AUTH_ANONYMOUS_ENABLED: String(profile.grafanaAnonymousViewer),
        GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
        // Every correlation (exemplar → trace, log line → trace, trace → logs/metrics, trace ids in tables,
        // the dashboards' "Logs of"/"Traces of" links) is an internal link into Explore, which Grafana hides
        // from a user without datasources:explore. OSS grants that to Editor, and to Viewer only with
        // viewers_can_edit (pkg/api/accesscontrol.go, fixed:datasources:explorer; deprecated, still honoured).
        // It is the narrowest switch OSS has: per-role RBAC grants are Enterprise-only, and Editor would also
        // allow saving dashboards and managing alerts. Viewers already query every datasource
        // (fixed:datasources:reader), and allowUiUpdates: false keeps dashboard edits unsaveable. prod has no
        // anonymous access and keeps the default.
        GF_USERS_VIEWERS_CAN_EDIT: String(profile.grafanaAnonymousViewer),
        GF_USERS_ALLOW_SIGN_UP: 'false',
        GF_PLUGINS_PREINSTALL_DISABLED: 'true',
        // Only read when preinstall is enabled (pkg/setting/setting_plugins.go); kept as a second guard.
        GF_PLUGINS_PREINSTALL_AUTO_UPDATE: 'false',
        // No calls to grafana.com or gravatar.com at start or per page (they only time out offline);
        // plugin signatures are checked against the key built into Grafana.
        GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED: 'true',
        GF_SECURITY_DISABLE_GRAVATAR: 'true',
        GF_ANALYTICS_REPORTING_ENABLED: 'false',
        GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
        GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
        GF_NEWS_NEWS_FEED_ENABLED: 'false',
        GF_LOG_LEVEL: profile.logLevel === 'warn' ? 'warn' : profile.logLevel,
        // GF_SERVER_DOMAIN and GF_SERVER_ROOT_URL are set from the published port below; with enforce_domain,
        // a request naming another host (a DNS-rebinding page) is redirected to the real origin, which the page
        // cannot read. /api/health and /healthz are exempt [S grafana pkg/api/http_server.go addMiddlewaresAndStaticRoutes].
        GF_SERVER_ENFORCE_DOMAIN: 'true',
        MOP_GRAFANA_PLUGINS: grafanaPlugins.map((p) => `${p.id}@${p.version}`).join(' '),
        ...tenancyEnv,
      },
      workload: 'Deployment',
    },
  );
  const demoOn = opts.demo ?? profile.demo;
  if (demoOn) {
    defs.push({
      name: 'demo',
      title: 'Demo shop (instrumented Node.js services and load generator)',
      image: `mop-sandbox/demo-app:${images.node.tag}`,
      build: { dockerfile: 'demo-app/Dockerfile' },
      args: [],
      ports: [
        { name: 'http', port: ports.demo.http, publish: true, protocol: 'http', description: 'storefront' },
        { name: 'control', port: ports.demo.control, publish: true, protocol: 'http', description: 'fault scenario control API' },
      ],
      readiness: { port: ports.demo.control, path: '/healthz' },
      uiPath: '/',
      user: '1000:1000',
      dependsOn: [{ name: 'alloy', condition: 'started' }],
      configFiles: [],
      talksTo: [{ name: 'alloy', port: 'otlp-http' }],
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: serviceUrl('alloy', ports.alloy.otlpHttp),
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${profile.name}`,
        DEMO_PORT: String(ports.demo.http),
        DEMO_CONTROL_PORT: String(ports.demo.control),
        // The control API refuses requests without it (demo-app/launcher/request-guard.js); `scenario` sends it.
        DEMO_CONTROL_TOKEN: { secret: 'DEMO_CONTROL_TOKEN' },
      },
      workload: 'Deployment',
    });
  }
  if (opts.obi) {
    defs.push({
      name: 'obi',
      title: 'OBI (OpenTelemetry eBPF Instrumentation)',
      image: imageRef(pin('obi')),
      args: [],
      ports: [{ name: 'metrics', port: ports.obi.metrics, publish: false, protocol: 'http', description: 'Prometheus metrics' }],
      user: '0:0',
      rootBecause: 'eBPF instrumentation needs privileges and the host PID namespace (opt-in)',
      dependsOn: [{ name: 'alloy', condition: 'started' }, ...(demoOn ? [{ name: 'demo' as const, condition: 'started' as const }] : [])],
      configFiles: [],
      talksTo: [{ name: 'alloy', port: 'otlp-http' }],
      // On kind OBI runs in its own namespace (kubernetesNamespace), so Alloy is named with the stack's namespace.
      runtimeEnv: { kind: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://alloy.${profile.namespace}.svc:${ports.alloy.otlpHttp}` } },
      env: {
        OTEL_EBPF_OPEN_PORT: `${ports.demo.http}-${ports.demo.control}`,
        OTEL_EXPORTER_OTLP_ENDPOINT: serviceUrl('alloy', ports.alloy.otlpHttp),
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EBPF_METRICS_FEATURES: 'application,application_service_graph',
        OTEL_EBPF_INTERNAL_METRICS_EXPORTER: 'otel',
        OTEL_EBPF_KUBE_METADATA_ENABLE: 'autodetect',
      },
      workload: 'DaemonSet',
      privileged: true,
      hostPid: true,
      ...(demoOn ? { composePidOf: 'demo' as const } : {}),
    });
  }

  const fronted = frontedPorts.filter((f) => defs.some((d) => d.name === f.name && d.ports.some((p) => p.name === f.port && p.publish)));
  if (fronted.length) defs.push(gatewayComponent(fronted, defs));

  const components: Component[] = defs.map((d) => ({
    ...d,
    image: resolveImage(d.name, d.image, opts, Boolean(d.build)),
    // An overridden image replaces the local build (stand-ins, prebuilt demo images).
    build: opts.imageOverrides?.[d.name] ? undefined : d.build,
    resources: withMemoryLimit(profile.resources[d.name] ?? fallbackResources, opts.memoryLimits?.[d.name]),
    ...(profile.disk[d.name] && d.dataDir ? { diskNeed: profile.disk[d.name] } : {}),
    replicas: d.name in profile.replicas ? profile.replicas[d.name as ScaledComponent] : 1,
  }));

  const bindAddress = opts.bindAddress ?? '127.0.0.1';
  const published: PublishedPort[] = components.flatMap((c) =>
    c.ports
      .filter((p) => p.publish)
      .map((p) => ({
        component: c.name,
        name: p.name,
        containerPort: p.port,
        hostPort: opts.hostPorts?.[`${c.name}.${p.name}`] ?? p.port,
        hostIp: bindAddress,
        protocol: p.protocol,
        publisher: isFronted(c.name, p.name) ? GATEWAY : c.name,
      })),
  );
  const gateway = components.find((c) => c.name === GATEWAY);
  if (gateway) gateway.env = { ...gateway.env, MOP_GATEWAY_ROUTES: JSON.stringify(gatewayRoutes(published)) };
  const grafana = components.find((c) => c.name === 'grafana');
  const grafanaPort = published.find((p) => p.component === 'grafana' && p.name === 'http');
  if (grafana && grafanaPort) {
    grafana.env = { ...grafana.env, GF_SERVER_DOMAIN: browserHost(grafanaPort.hostIp), GF_SERVER_ROOT_URL: `http://${urlHost(grafanaPort.hostIp)}:${grafanaPort.hostPort}/` };
  }
  return { profile, store, s3, buckets, multitenancy, tenant, bindAddress, collectAllLogs, backendUsers, components, published };
}

/** Where the gateway's script is mounted (config/gateway/gateway.mjs). */
const GATEWAY_SCRIPT = '/etc/mop/gateway/gateway.mjs';

/**
 * The gateway: listens on the published ports of `fronted` (the same port numbers) and forwards what passes its Host,
 * Origin and path checks (scripts/stack/gateway.ts). A plain Node.js script on the pinned Node image: no build, no
 * dependencies, the image's non-root `node` user.
 */
function gatewayComponent(fronted: PortRef[], defs: Omit<Component, 'resources' | 'replicas'>[]): Omit<Component, 'resources' | 'replicas'> {
  const portOf = (ref: PortRef) => defs.find((d) => d.name === ref.name)!.ports.find((p) => p.name === ref.port)!;
  return {
    name: GATEWAY,
    title: 'Gateway (Host, Origin and path checks in front of the backends\' published ports)',
    image: imageRef(pin('node')),
    entrypoint: ['node', GATEWAY_SCRIPT],
    args: [],
    ports: fronted.map((ref) => ({ name: gatewayPortName(ref), port: portOf(ref).port, publish: false, protocol: 'http' as const, description: `${ref.name} ${portOf(ref).description}, checked` })),
    // The node image's own user (docker-node: uid 1000 "node").
    user: '1000:1000',
    dependsOn: [],
    configFiles: [{ source: 'gateway/gateway.mjs', target: GATEWAY_SCRIPT }],
    talksTo: fronted,
    // MOP_GATEWAY_ROUTES is added once the published ports are known.
    env: {},
    workload: 'Deployment',
  };
}

/** The host a person's browser uses for a port bound to `hostIp` (a wildcard bind is opened on loopback). */
export function browserHost(hostIp: string): string {
  return hostIp === '0.0.0.0' || hostIp === '::' ? '127.0.0.1' : hostIp;
}

/** browserHost, bracketed when it is an IPv6 address (for URLs). */
export const urlHost = (hostIp: string) => (browserHost(hostIp).includes(':') ? `[${browserHost(hostIp)}]` : browserHost(hostIp));

/** A memory limit set by the user; the request never exceeds it (Kubernetes would refuse the pod). */
function withMemoryLimit(r: ResourceSpec, limit: string | undefined): ResourceSpec {
  if (!limit) return r;
  const bytes = (q: string) => {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(q);
    const pow: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
    return m ? Number(m[1]) * pow[m[2] ?? ''] : NaN;
  };
  const request = bytes(r.requests.memory) > bytes(limit) ? limit : r.requests.memory;
  return { requests: { ...r.requests, memory: request }, limits: { ...r.limits, memory: limit } };
}

/** Alloy's log discovery: one file per scope, loaded beside logs-docker.alloy / logs-kubernetes.alloy. */
function logDiscoveryFiles(all: boolean): ConfigFile[] {
  const scope = all ? 'all' : 'stack';
  return [
    { source: `alloy/discovery-docker-${scope}.alloy`, target: `/etc/alloy/discovery-docker-${scope}.alloy`, runtimes: ['compose'], needsDockerSocket: true },
    { source: `alloy/discovery-kubernetes-${scope}.alloy`, target: `/etc/alloy/discovery-kubernetes-${scope}.alloy`, runtimes: ['kind'] },
  ];
}

/**
 * On Kubernetes, a component that needs host privileges (OBI: privileged, host PID namespace) runs in a namespace of
 * its own, `<stack namespace>-<name>`, the only one whose Pod Security level admits it; the stack's namespace stays
 * `restricted`. Everything else runs in the profile's namespace.
 */
export const needsOwnNamespace = (c: Pick<Component, 'privileged' | 'hostPid'>) => Boolean(c.privileged || c.hostPid);

/** The name of a component's own namespace beside the stack's namespace `ns`. */
export const ownNamespaceName = (ns: string, name: ComponentName) => `${ns}-${name}`;

export function kubernetesNamespace(stack: Pick<Stack, 'profile'>, c: Pick<Component, 'name' | 'privileged' | 'hostPid'>): string {
  return needsOwnNamespace(c) ? ownNamespaceName(stack.profile.namespace, c.name) : stack.profile.namespace;
}

/** Every namespace a stack uses on Kubernetes, the profile's first. */
export function kubernetesNamespaces(stack: Pick<Stack, 'profile' | 'components'>): string[] {
  return [...new Set([stack.profile.namespace, ...stack.components.map((c) => kubernetesNamespace(stack, c))])];
}

/** The environment of a component on a runtime: `env` with that runtime's entries replacing same-named ones. */
export const envOn = (c: Component, runtime: RuntimeName): Record<string, EnvValue> => ({ ...c.env, ...c.runtimeEnv?.[runtime] });

/** The user a component runs as on a runtime. */
export const userOn = (c: Component, runtime: RuntimeName): string => c.runtimeUser?.[runtime] ?? c.user;

function resolveImage(name: ComponentName, image: string, opts: StackOptions, built: boolean): string {
  const override = opts.imageOverrides?.[name];
  if (override) return override;
  if (built || !opts.registryMirror) return image;
  const mirror = opts.registryMirror.endsWith('/') ? opts.registryMirror : `${opts.registryMirror}/`;
  return mirror + image;
}

export function component(stack: Stack, name: ComponentName): Component | undefined {
  return stack.components.find((c) => c.name === name);
}
