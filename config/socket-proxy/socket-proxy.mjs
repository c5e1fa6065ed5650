// mop-sandbox socket proxy: the only process of the stack that holds the Docker socket (compose). Alloy reads the
// Docker API through it; the socket itself is the whole Docker API, which is root on the engine's host, and a
// read-only bind mount does not stop connect() on it. This process forwards only the read calls Alloy makes, and
// refuses every other method and path with 403 before anything reaches the socket.
//
// The allow-list, from the source of the pinned Alloy (grafana/alloy v1.18.1), which builds both components on the
// Docker Go client github.com/moby/moby/client v0.5.0 (alloy go.mod:980):
//   - discovery.docker wraps Prometheus's Docker service discovery (alloy internal/component/discovery/docker/docker.go:92
//     returns moby.DockerSDConfig; prometheus/prometheus v0.312.0, alloy go.mod:210):
//       ContainerList  (prometheus discovery/moby/docker.go:201)  -> GET /containers/json   (moby client/container_list.go:57)
//       NetworkList    (prometheus discovery/moby/network.go:36)  -> GET /networks          (moby client/network_list.go:20)
//   - loki.source.docker (alloy internal/component/loki/source/docker/tailer.go):
//       ContainerInspect (:99 on its restart ticker, :132 before tailing) -> GET /containers/{id}/json
//                                                                          (moby client/container_inspect.go:40)
//       ContainerLogs    (:139, stdout, stderr, follow, timestamps, since) -> GET /containers/{id}/logs
//                                                                          (moby client/container_logs.go:118)
//   - API version negotiation, before the first call of each client (moby client/client.go:303-323 checkVersion ->
//     Ping, then /v<version> in front of every path): HEAD /_ping, then GET /_ping when HEAD fails (moby
//     client/ping.go:112,129), unversioned.
// Every path may carry the /v1.NN prefix. Query strings pass unchanged (filters, follow, since, ...): on these
// endpoints they only choose what is read. An inspect answer loses the container's environment (Config.Env): the
// tailer reads only State.FinishedAt, State.Running and Config.Tty from it (tailer.go:107,113,157), and other
// containers' variables hold their credentials (Grafana's admin password, the S3 keys). The Docker CLI's `ps`,
// `container inspect`, `logs` and `network ls` use the same calls (test/engine/socket-proxy.test.ts drives it through
// this process).
//
// Alloy must reach it as tcp://, not http:// (alloy internal/component/loki/source/docker/docker.go:267-282: an
// http(s) host gets an HTTP client whose Timeout is the refresh interval, which would cut every follow stream); over
// tcp:// the Docker client has no timeout, and this process sets none either: a follow stream lasts as long as the
// container.
// Scope: with MOP_SOCKET_PROXY_ONLY_LABEL (`key=value`, the stack's own label; unset when the user collects every
// container's logs), the proxy itself keeps Alloy to the stack: a container list is asked with that label filter added
// (ANDed with Alloy's own), and inspect or logs of a container without the label is refused. Alloy's config asks only
// for the stack's containers anyway; this makes it hold when Alloy is not the one asking.
// No dependencies. Settings from the environment: MOP_SOCKET_PROXY_SOCKET (the mounted socket),
// MOP_SOCKET_PROXY_PORT, MOP_SOCKET_PROXY_HOST (default 0.0.0.0: inside its network only, never published),
// MOP_SOCKET_PROXY_ONLY_LABEL.
import http from 'node:http';

const VERSION = String.raw`(?:/v\d+\.\d+)?`;
const ID = String.raw`[A-Za-z0-9][A-Za-z0-9_.-]*`;

/** The allowed calls: methods and the path (after an optional /v1.NN). */
export const ALLOWED = [
  { methods: ['HEAD', 'GET'], path: '/_ping', why: 'API version negotiation' },
  { methods: ['GET'], path: '/containers/json', why: 'discovery.docker: ContainerList' },
  { methods: ['GET'], path: '/networks', why: 'discovery.docker: NetworkList' },
  { methods: ['GET'], path: '/containers/{id}/json', why: 'loki.source.docker: ContainerInspect' },
  { methods: ['GET'], path: '/containers/{id}/logs', why: 'loki.source.docker: ContainerLogs' },
];

const RULES = ALLOWED.map((a) => ({ ...a, re: new RegExp(`^${VERSION}${a.path.replace('{id}', ID)}$`) }));
const INSPECT = RULES.find((r) => r.path === '/containers/{id}/json').re;
const LIST = RULES.find((r) => r.path === '/containers/json').re;
/** The container a per-container call names (inspect, logs), or undefined. */
const ONE_CONTAINER = new RegExp(`^${VERSION}/containers/(${ID})/(?:json|logs)$`);
/** An inspect answer is a few KiB; one bigger than this is not buffered. */
const MAX_INSPECT_BYTES = 4 * 1024 * 1024;

/**
 * Whether a request may pass: { allowed: true } or { allowed: false, status, error }. The path is decoded and
 * normalised the way the gateway does (config/gateway/gateway.mjs), and must already be in that form: an encoded
 * character, a doubled slash or a dot segment is refused rather than cleaned, so what the engine receives is
 * exactly the path that was checked.
 * @param {string | undefined} method
 * @param {string | undefined} url
 * @returns {{ allowed: true } | { allowed: false, status: number, error: string }}
 */
export function decide(method, url) {
  // Only the query string is split off: a '#' stays in the path, which then is not plain and is refused.
  const raw = String(url ?? '').split('?')[0];
  let path;
  try {
    const decoded = decodeURIComponent(raw).replace(/\/{2,}/g, '/');
    path = new URL(decoded.startsWith('/') ? decoded : `/${decoded}`, 'http://socket-proxy').pathname;
  } catch {
    return { allowed: false, status: 400, error: `malformed path ${JSON.stringify(raw)}` };
  }
  const refused = (why) => ({
    allowed: false,
    status: 403,
    error: `${method} ${raw} is refused by the mop-sandbox socket proxy: ${why}; it passes only ${ALLOWED.map((a) => `${a.methods.join('/')} ${a.path}`).join(', ')} (read-only calls Alloy makes)`,
  });
  if (path !== raw) return refused('the path is not in plain form (encoded characters, doubled slashes or dot segments)');
  const rule = RULES.find((r) => r.re.test(path));
  if (!rule) return refused('the path is not on the allow-list');
  if (!rule.methods.includes(String(method))) return refused(`only ${rule.methods.join(' and ')} is allowed on this path`);
  return { allowed: true };
}

/**
 * Reads one inspect answer (a small JSON document, bounded; unlike a logs stream it is buffered):
 * { status: 200, statusMessage, headers, doc } or { status, error }.
 * @param {http.IncomingMessage} up
 */
function readInspect(up) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    up.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_INSPECT_BYTES) {
        up.destroy();
        resolve({ status: 502, error: `the engine's inspect answer is over ${MAX_INSPECT_BYTES} bytes` });
        return;
      }
      chunks.push(chunk);
    });
    up.on('end', () => {
      try {
        resolve({ status: up.statusCode ?? 502, statusMessage: up.statusMessage, headers: up.headers, doc: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        resolve({ status: 502, error: 'the engine answered an inspect call with something that is not JSON' });
      }
    });
    up.on('error', (e) => resolve({ status: 502, error: `the engine's inspect answer broke off (${e.code ?? e.message})` }));
  });
}

/** Sends an inspect answer without Config.Env, the rest as the engine sent it. */
function sendWithoutEnvironment(res, inspected) {
  if (res.headersSent) return;
  if (inspected.doc?.Config) delete inspected.doc.Config.Env;
  const body = JSON.stringify(inspected.doc);
  const headers = { ...inspected.headers };
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  res.writeHead(inspected.status, inspected.statusMessage, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * A container-list URL with the stack's label filter added: Docker ANDs label filters, so the answer is what the caller
 * asked for, within the stack. Both filter shapes the API accepts ({"label":{"k=v":true}} and {"label":["k=v"]}).
 * @returns {string | undefined} undefined when `filters` is not JSON
 */
export function withLabelFilter(url, label) {
  const u = new URL(url, 'http://socket-proxy');
  let filters;
  try {
    filters = JSON.parse(u.searchParams.get('filters') ?? '{}');
  } catch {
    return undefined;
  }
  if (!filters || typeof filters !== 'object' || Array.isArray(filters)) return undefined;
  const current = filters.label;
  const asMap = Array.isArray(current) ? Object.fromEntries(current.map((l) => [l, true])) : current && typeof current === 'object' ? current : {};
  filters.label = { ...asMap, [label]: true };
  u.searchParams.set('filters', JSON.stringify(filters));
  return `${u.pathname}${u.search}`;
}

/** One container's inspect answer, asked of the engine itself (see readInspect). */
function inspectContainer(socketPath, id) {
  return new Promise((resolve) => {
    const req = http.request({ socketPath, method: 'GET', path: `/containers/${encodeURIComponent(id)}/json` }, (up) => resolve(readInspect(up)));
    req.on('error', (e) => resolve({ status: 502, error: `the Docker socket ${socketPath} does not answer (${e.code ?? e.message})` }));
    req.end();
  });
}

function refuse(res, status, error) {
  const body = JSON.stringify({ message: error });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/**
 * The proxy server (not yet listening).
 * @param {{ socketPath: string, onlyLabel?: string, log?: { error: (message: string) => void } }} options
 */
export function createSocketProxy({ socketPath, onlyLabel, log = console }) {
  const [labelKey, labelValue] = onlyLabel ? [onlyLabel.slice(0, onlyLabel.indexOf('=')), onlyLabel.slice(onlyLabel.indexOf('=') + 1)] : [];
  /**
   * What to do with an allowed call under the stack's scope: { url } to forward (a list gets the label filter),
   * { inspected } to answer with the inspect already read for the label check (not asked twice), or a refusal.
   */
  async function scoped(method, url) {
    if (!onlyLabel) return { url };
    const path = String(url).split('?')[0];
    if (LIST.test(path)) {
      const filtered = withLabelFilter(url, onlyLabel);
      return filtered ? { url: filtered } : { status: 400, error: `${method} ${path}: the filters parameter is not JSON` };
    }
    const one = ONE_CONTAINER.exec(path);
    if (!one) return { url };
    const found = await inspectContainer(socketPath, one[1]);
    // A container the engine does not know (404), or an engine that does not answer: the forwarded call says so.
    if (found.status !== 200) return { url };
    if (found.doc?.Config?.Labels?.[labelKey] !== labelValue) {
      return { status: 403, error: `${method} ${path} is refused by the mop-sandbox socket proxy: container ${one[1]} is not part of this stack (no label ${onlyLabel}); the collectAllLogs setting (MOP_COLLECT_ALL_LOGS=true) lets every container through` };
    }
    return method === 'GET' && INSPECT.test(path) ? { inspected: found } : { url };
  }

  // No request or socket timeout may end a follow stream (requestTimeout covers only the request's own arrival).
  const server = http.createServer({ requestTimeout: 0 }, async (req, res) => {
    const verdict = decide(req.method, req.url);
    if (!verdict.allowed) {
      log.error(`mop-sandbox socket proxy: refused ${req.method} ${req.url}: ${verdict.error}`);
      req.resume();
      return refuse(res, verdict.status, verdict.error);
    }
    const target = await scoped(req.method, req.url);
    if (target.inspected) {
      req.resume();
      return sendWithoutEnvironment(res, target.inspected);
    }
    if (!target.url) {
      log.error(`mop-sandbox socket proxy: refused ${req.method} ${req.url}: ${target.error}`);
      req.resume();
      return refuse(res, target.status, target.error);
    }
    // Streamed both ways, never buffered: a logs?follow=1 answer lasts as long as the container.
    const upstream = http.request({ socketPath, method: req.method, path: target.url, headers: req.headers }, (up) => {
      if (req.method === 'GET' && up.statusCode === 200 && INSPECT.test(String(req.url).split('?')[0])) {
        return void readInspect(up).then((inspected) => (inspected.doc ? sendWithoutEnvironment(res, inspected) : refuse(res, 502, inspected.error)));
      }
      res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
      res.flushHeaders();
      up.pipe(res);
    });
    upstream.on('error', (e) => {
      if (res.headersSent) return res.destroy();
      refuse(res, 502, `the Docker socket ${socketPath} does not answer (${e.code ?? e.message})`);
    });
    // The client went away (Alloy stopped tailing): close the engine's stream too.
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  // Upgrades (attach, exec hijacks) are never forwarded, whatever the path.
  server.on('upgrade', (req, socket) => {
    const error = `${req.method} ${req.url} with an Upgrade header is refused by the mop-sandbox socket proxy`;
    log.error(`mop-sandbox socket proxy: refused ${req.method} ${req.url}: ${error}`);
    socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ message: error })}`);
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const socketPath = process.env.MOP_SOCKET_PROXY_SOCKET ?? '/var/run/docker.sock';
  const port = Number(process.env.MOP_SOCKET_PROXY_PORT ?? '2375');
  const host = process.env.MOP_SOCKET_PROXY_HOST ?? '0.0.0.0';
  const server = createSocketProxy({ socketPath, onlyLabel: process.env.MOP_SOCKET_PROXY_ONLY_LABEL || undefined });
  server.on('listening', () => console.log(`mop-sandbox socket proxy: ${host}:${port} -> ${socketPath} (read-only allow-list)`));
  server.on('error', (e) => {
    console.error(`mop-sandbox socket proxy: cannot listen on ${host}:${port} (${e.message})`);
    process.exit(1);
  });
  server.listen(port, host);
  const stop = () => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
