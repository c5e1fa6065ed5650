/**
 * Environments: the seed's `_config` (namespace, domain, replicas, requests and limits) per profile.
 * default is the seed verbatim; dev is lighter for small laptops; prod points at an external S3 and scales
 * what scales: Alloy clusters, and Mimir and Loki run three replicas each on a memberlist ring with
 * replication factor 3 (model.ts ringReplicationFactor), so writes and queries keep working while any one
 * of their pods restarts. Tempo (monolithic, one replica by upstream guidance) and Grafana stay single.
 */
export type ProfileName = 'default' | 'dev' | 'prod';
export const profileNames: ProfileName[] = ['default', 'dev', 'prod'];

export interface ResourceSpec {
  requests: { memory: string; cpu: string };
  limits: { memory: string; cpu: string };
}

export type ScaledComponent = 'alloy' | 'tempo' | 'mimir' | 'loki' | 'grafana';

export interface Profile {
  name: ProfileName;
  namespace: string;
  domain: string;
  replicas: Record<ScaledComponent, number>;
  /** Requests and limits per component; components not listed use `fallbackResources`. */
  resources: Record<string, ResourceSpec>;
  /** Object store this profile uses unless the user chooses another. */
  objectStore: 'minio' | 'seaweedfs' | 'external';
  /** Anonymous read-only browsing in Grafana (never Admin). */
  grafanaAnonymousViewer: boolean;
  logLevel: 'debug' | 'info' | 'warn';
  /** Whether `up` starts the demo app and its load generator. */
  demo: boolean;
  /** Persistent volume size per stateful component (Kubernetes). */
  storage: Record<string, string>;
  /**
   * Free disk each stateful component needs where the engine keeps volumes (compose): a day of the demo's telemetry
   * with room for compaction, not the volume's capacity. Preflight checks the sum; `status` warns below it.
   */
  disk: Record<string, string>;
}

const r = (reqMem: string, reqCpu: string, limMem: string, limCpu: string): ResourceSpec => ({
  requests: { memory: reqMem, cpu: reqCpu },
  limits: { memory: limMem, cpu: limCpu },
});

/** The seed's resources (shared/seed/grafana-stack-deployment-guide.md, "Environment Configuration"). */
const seedResources: Record<string, ResourceSpec> = {
  alloy: r('256Mi', '100m', '512Mi', '500m'),
  tempo: r('512Mi', '250m', '1Gi', '1000m'),
  mimir: r('512Mi', '250m', '1Gi', '1000m'),
  loki: r('256Mi', '100m', '512Mi', '500m'),
  grafana: r('256Mi', '100m', '512Mi', '500m'),
  store: r('256Mi', '100m', '512Mi', '500m'),
  buckets: r('32Mi', '10m', '64Mi', '100m'),
  demo: r('128Mi', '100m', '512Mi', '500m'),
  obi: r('128Mi', '100m', '512Mi', '500m'),
  // Not in the seed: a Node.js process that only forwards (about 50 MiB resident).
  gateway: r('48Mi', '10m', '128Mi', '250m'),
};

export const fallbackResources = r('64Mi', '50m', '256Mi', '250m');

const localDisk = { store: '2Gi', tempo: '1Gi', mimir: '1Gi', loki: '1Gi', grafana: '256Mi', alloy: '256Mi' };

const seedStorage = { tempo: '10Gi', mimir: '10Gi', loki: '10Gi', grafana: '1Gi', store: '20Gi', alloy: '1Gi' };

export const profiles: Record<ProfileName, Profile> = {
  default: {
    name: 'default',
    namespace: 'mop-system',
    domain: 'observability.local',
    replicas: { alloy: 2, tempo: 1, mimir: 1, loki: 1, grafana: 1 },
    resources: seedResources,
    objectStore: 'minio',
    grafanaAnonymousViewer: true,
    logLevel: 'info',
    demo: true,
    storage: seedStorage,
    disk: localDisk,
  },
  dev: {
    name: 'dev',
    namespace: 'mop-dev',
    domain: 'dev.observability.local',
    replicas: { alloy: 1, tempo: 1, mimir: 1, loki: 1, grafana: 1 },
    resources: {
      ...seedResources,
      alloy: r('128Mi', '50m', '512Mi', '500m'),
      tempo: r('256Mi', '100m', '1Gi', '1000m'),
      mimir: r('256Mi', '100m', '1Gi', '1000m'),
      loki: r('128Mi', '50m', '512Mi', '500m'),
      grafana: r('128Mi', '50m', '512Mi', '500m'),
    },
    objectStore: 'minio',
    grafanaAnonymousViewer: true,
    logLevel: 'debug',
    demo: true,
    storage: { tempo: '2Gi', mimir: '2Gi', loki: '2Gi', grafana: '1Gi', store: '5Gi', alloy: '1Gi' },
    disk: { store: '1Gi', tempo: '512Mi', mimir: '512Mi', loki: '512Mi', grafana: '256Mi', alloy: '128Mi' },
  },
  prod: {
    name: 'prod',
    namespace: 'mop-system',
    domain: 'observability.local',
    replicas: { alloy: 3, tempo: 1, mimir: 3, loki: 3, grafana: 1 },
    resources: {
      ...seedResources,
      alloy: r('512Mi', '250m', '1Gi', '1000m'),
      tempo: r('1Gi', '500m', '2Gi', '2000m'),
      mimir: r('1Gi', '500m', '2Gi', '2000m'),
      loki: r('512Mi', '250m', '1Gi', '1000m'),
      grafana: r('256Mi', '100m', '512Mi', '500m'),
    },
    objectStore: 'external',
    grafanaAnonymousViewer: false,
    logLevel: 'warn',
    demo: false,
    storage: { tempo: '50Gi', mimir: '50Gi', loki: '50Gi', grafana: '5Gi', store: '0', alloy: '5Gi' },
    disk: { tempo: '2Gi', mimir: '2Gi', loki: '2Gi', grafana: '512Mi', alloy: '512Mi' },
  },
};

export function isProfileName(s: string): s is ProfileName {
  return (profileNames as string[]).includes(s);
}
