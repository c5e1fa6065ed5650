/**
 * The Docker socket proxy on compose (config/socket-proxy/socket-proxy.mjs runs the allow-list): the one container
 * that mounts the engine's Docker socket, so that Alloy, whose OTLP receivers every container can reach, reads the
 * Docker API through a read-only allow-list instead of holding the whole API (root on the engine's host). It serves
 * on a network of its own that only Alloy joins, and publishes no port. Kind reads pod logs through the Kubernetes
 * API and has no socket proxy.
 */
import type { ConfigFile } from './model.js';

/** The compose service (never "docker-proxy": that is Docker's own userland port proxy in messages and tests). */
export const SOCKET_PROXY = 'socket-proxy';

/** Its TCP port inside its network: Docker's conventional plain-HTTP API port. */
export const SOCKET_PROXY_PORT = 2375;

/** The compose network of its own that the proxy and Alloy share (no other container reaches the proxy). */
export const SOCKET_PROXY_NETWORK = 'docker-api';

/** Where the socket is mounted in the proxy's container (the proxy's MOP_SOCKET_PROXY_SOCKET). */
export const PROXIED_SOCKET = '/var/run/docker.sock';

/** The script, mounted read-only like the gateway's. */
export const socketProxyScript: ConfigFile = { source: 'socket-proxy/socket-proxy.mjs', target: '/etc/mop/socket-proxy/socket-proxy.mjs', runtimes: ['compose'] };

/**
 * The variable Alloy's docker configs read for their `host` (config/alloy/discovery-docker-*.alloy, logs-docker.alloy).
 * tcp://, not http://: Alloy gives an http(s) host an HTTP client whose timeout is the refresh interval, which
 * would cut the follow streams of container logs (grafana/alloy v1.18.1 internal/component/loki/source/docker/docker.go:267-282).
 */
export const DOCKER_HOST_ENV = 'MOP_DOCKER_HOST';
export const socketProxyDockerHost = `tcp://${SOCKET_PROXY}:${SOCKET_PROXY_PORT}`;

/**
 * The proxy's own settings (read by the script). `onlyLabel` (`key=value`, the stack's label; undefined when every
 * container's logs are collected): the proxy lists and reads only containers that carry it.
 */
export const socketProxyEnv = (onlyLabel?: string): Record<string, string> => ({
  MOP_SOCKET_PROXY_SOCKET: PROXIED_SOCKET,
  MOP_SOCKET_PROXY_PORT: String(SOCKET_PROXY_PORT),
  ...(onlyLabel ? { MOP_SOCKET_PROXY_ONLY_LABEL: onlyLabel } : {}),
});

/** The Node image's own non-root user (docker-node: uid 1000 "node"), as the gateway runs. */
export const SOCKET_PROXY_USER = '1000:1000';
