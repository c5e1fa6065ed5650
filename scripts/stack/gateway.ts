/**
 * The gateway in front of the backends' published ports (config/gateway/gateway.mjs runs the rules): which ports it
 * fronts, which paths it never forwards, and the route list it reads from MOP_GATEWAY_ROUTES. Loki, Mimir and Tempo
 * check no Host header and have no login; the gateway turns away DNS-rebinding and cross-site requests and the
 * destructive endpoints that the pinned versions cannot switch off. Inside the stack network (Alloy, Grafana,
 * the backends themselves) nothing goes through it.
 */
import type { ComponentName, PortRef, PublishedPort } from './model.js';
import { browserHost } from './model.js';

export const GATEWAY = 'gateway' satisfies ComponentName;

/** The published ports the gateway listens on instead of their component (Grafana and the demo check Host themselves; OTLP stays direct). */
export const frontedPorts: PortRef[] = [
  { name: 'loki', port: 'http' },
  { name: 'mimir', port: 'http' },
  { name: 'tempo', port: 'http' },
  { name: 'alloy', port: 'http' },
  { name: 'store', port: 's3' },
  { name: 'store', port: 'console' },
];

/**
 * Path rules: "/x" that path, "/x/" everything under it, "*x" every path ending in x. `deny` is refused for every
 * method, `denyWrites` for POST, PUT, PATCH and DELETE (the page itself stays readable).
 */
export interface PathRules {
  deny: string[];
  denyWrites: string[];
}

/** Ring pages (GET shows the ring, POST "forgets" an instance): every backend's, Loki's, Mimir's and Tempo's alike. */
const RING_WRITES = '*ring';

/**
 * What each backend can be made to do by one request that the sandbox never needs from the host. None of these can
 * be switched off by a setting in the pinned versions.
 */
export const destructivePaths: Partial<Record<ComponentName, PathRules>> = {
  // Loki 3.7 (grafana/loki v3.7.6 pkg/loki/modules.go:779-790 initIngester: /flush, /ingester/prepare_shutdown,
  // /ingester/prepare_partition_downscale, /ingester/shutdown, registered unconditionally with GET/POST;
  // :1928 the compactor's handler prefix; :2450-2456 /dataobj-consumer/prepare-*downscale; pkg/util/constants/api_paths.go:30
  // /loki/api/v1/delete, which deletion_mode: disabled already refuses).
  loki: {
    deny: ['/flush', '/ingester/', '/compactor/', '/loki/api/v1/delete', '/dataobj-consumer/'],
    denyWrites: [RING_WRITES],
  },
  // Mimir (grafana/mimir pkg/api/api.go RegisterIngester, RegisterCompactor, RegisterStoreGateway, RegisterRuler,
  // RegisterAlertmanager, RegisterUsageTracker: /ingester/flush and /ingester/prepare-* with GET, /ingester/shutdown,
  // /compactor/delete_tenant, /ruler/delete_tenant_config, /multitenant_alertmanager/delete_tenant_config with POST,
  // block upload under /api/v1/upload/block/; registered whenever the module runs, and the 3.0 key tree has no
  // setting that removes them). Rule and Alertmanager configs are changed by POST/DELETE on their APIs.
  mimir: {
    deny: [
      '/ingester/flush',
      '/ingester/shutdown',
      '/ingester/prepare-shutdown',
      '/ingester/prepare-partition-downscale',
      '/ingester/prepare-instance-ring-downscale',
      '/ingester/unregister-on-shutdown',
      '/compactor/delete_tenant',
      '/store-gateway/prepare-shutdown',
      '/ruler/delete_tenant_config',
      '/multitenant_alertmanager/delete_tenant_config',
      '/usage-tracker/prepare-instance-ring-downscale',
      '/api/v1/upload/block/',
    ],
    denyWrites: [RING_WRITES, '/prometheus/config/v1/rules/', '/api/v1/alerts', '/alertmanager/'],
  },
  // Tempo 3.0 (grafana/tempo v3.0.3 cmd/tempo/app/modules.go:722-727 /live-store/prepare-partition-downscale and
  // /live-store/prepare-downscale with GET/POST/DELETE; :166 /<ring>/ring with every method; :237-240 the user
  // overrides API with POST/PATCH/DELETE).
  tempo: {
    deny: ['/live-store/prepare-partition-downscale', '/live-store/prepare-downscale'],
    denyWrites: [RING_WRITES, '/partition-ring', '/api/overrides'],
  },
};

/**
 * The header of the gateway's 502 that names why the backend did not answer (ECONNREFUSED, ENOTFOUND, ...), so a
 * readiness probe through the gateway reads "connection refused" as it would on the backend's own port.
 */
export const GATEWAY_UPSTREAM_ERROR = 'x-mop-gateway-upstream-error';

export interface GatewayRoute extends PathRules {
  /** "loki http": what the route fronts, for messages. */
  name: string;
  /** The gateway's own container port (the same number as the component's). */
  listen: number;
  /** The host port it is published on: the only port a Host header may name. */
  hostPort: number;
  upstream: { host: string; port: number };
  /** Origins that may call: the port's own pages and the stack's Grafana, by every loopback name. */
  origins: string[];
  /** GATEWAY_UPSTREAM_ERROR, handed to the script (one source). */
  errorHeader: string;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

function originsOf(p: PublishedPort): string[] {
  const own = browserHost(p.hostIp);
  const names = [...new Set([...LOOPBACK_NAMES, own.includes(':') ? `[${own}]` : own])];
  return names.map((n) => `http://${n}:${p.hostPort}`);
}

/** The gateway's routes for a stack's published ports (those it fronts); Grafana's origin may call every one. */
export function gatewayRoutes(published: PublishedPort[]): GatewayRoute[] {
  const grafana = published.find((p) => p.component === 'grafana' && p.name === 'http');
  return published
    .filter((p) => p.publisher === GATEWAY)
    .map((p) => ({
      name: `${p.component} ${p.name}`,
      listen: p.containerPort,
      hostPort: p.hostPort,
      upstream: { host: p.component, port: p.containerPort },
      origins: [...originsOf(p), ...(grafana ? originsOf(grafana) : [])],
      errorHeader: GATEWAY_UPSTREAM_ERROR,
      deny: destructivePaths[p.component]?.deny ?? [],
      denyWrites: destructivePaths[p.component]?.denyWrites ?? [],
    }));
}

/** The gateway's port name for a fronted port ("loki-http"). */
export const gatewayPortName = (p: Pick<PortRef, 'name' | 'port'>) => `${p.name}-${p.port}`;

export const isFronted = (component: ComponentName, port: string) => frontedPorts.some((f) => f.name === component && f.port === port);
