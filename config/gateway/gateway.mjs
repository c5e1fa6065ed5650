// mop-sandbox gateway: the only listener on the backends' published ports (Loki, Mimir, Tempo, the Alloy UI, the
// object store). Loki, Mimir and Tempo check no Host header and have no login, and some of their endpoints delete
// data or stop a process on a body-less request; a web page can reach 127.0.0.1 (cross-site requests) and read it
// through DNS rebinding. This process refuses, before anything reaches a backend:
//   - a Host that is not an IP literal or `localhost` with the route's published port (DNS rebinding makes a browser
//     send the attacker's own name; it cannot make it send an IP literal it did not resolve);
//   - an Origin other than the route's own address or the stack's Grafana (every cross-origin call and every POST
//     from a browser carries one), and a cross-site browser request without one (Sec-Fetch-Site), except navigation;
//   - the backends' destructive paths (tenant deletion, ingester shutdown, flush, ring changes), for every caller.
// Everything else is passed through unchanged, Host included (S3 signatures cover it), upgrades (Loki's tail) too.
// The routes come from the stack model as JSON in MOP_GATEWAY_ROUTES (scripts/stack/gateway.ts); no dependencies.
import http from 'node:http';
import net from 'node:net';

/**
 * @typedef {{ name: string, listen: number, hostPort: number, upstream: { host: string, port: number },
 *   origins: string[], deny: string[], denyWrites: string[], errorHeader: string }} Route
 */

/** "127.0.0.1:3100" -> ["127.0.0.1", "3100"], "[::1]:3100" -> ["::1", "3100"], "localhost" -> ["localhost", ""]. */
function splitHost(host) {
  const h = host.trim().toLowerCase();
  const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(h) ?? /^([^:]+)(?::(\d*))?$/.exec(h);
  return m ? [m[1], m[2] ?? ''] : ['', ''];
}

/** A path rule: "/flush" that path, "/ingester/" (a trailing slash) everything under it, "*ring" every path ending in "ring". */
function matches(path, rule) {
  const p = path.length > 1 ? path.replace(/\/$/, '') : path;
  if (rule.startsWith('*')) return p.endsWith(rule.slice(1));
  if (rule.endsWith('/')) return path.startsWith(rule) || p === rule.slice(0, -1);
  return p === rule;
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Why a request is refused ({ status, error }), or undefined.
 * @param {{ method?: string, url?: string, headers: Record<string, string | string[] | undefined> }} req
 * @param {Route} route
 */
export function refusal(req, route) {
  const [name, port] = splitHost(String(req.headers.host ?? ''));
  if (!(net.isIP(name) !== 0 || name === 'localhost') || Number(port) !== route.hostPort) {
    return { status: 421, error: `Host "${req.headers.host ?? ''}" is not this port's address: call ${route.name} as 127.0.0.1:${route.hostPort} or localhost:${route.hostPort}` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && !route.origins.includes(String(origin).toLowerCase())) {
    return { status: 403, error: `requests from web pages of ${origin} are refused (only ${route.name}'s own pages and the stack's Grafana may call it)` };
  }
  const site = req.headers['sec-fetch-site'];
  if (origin === undefined && (site === 'cross-site' || site === 'same-site') && req.headers['sec-fetch-mode'] !== 'navigate') {
    return { status: 403, error: `${site} requests from web pages are refused` };
  }
  let path;
  try {
    // Decoded, slashes collapsed and dot segments resolved (the backends' routers clean paths too), so
    // "/%69ngester/shutdown", "//ingester//shutdown" or "/x/../flush" is caught. Never `new URL(req.url)` alone:
    // a path starting with "//" would parse as a host name.
    const decoded = decodeURIComponent(String(req.url ?? '/').split(/[?#]/)[0]).replace(/\/{2,}/g, '/');
    path = new URL(decoded.startsWith('/') ? decoded : `/${decoded}`, 'http://gateway').pathname;
  } catch {
    return { status: 400, error: 'malformed URL' };
  }
  if (route.deny.some((rule) => matches(path, rule))) {
    return { status: 403, error: `${path} changes or deletes ${route.name}'s data or stops it, and is not served on the published port (use it inside the stack network if you must)` };
  }
  if (WRITES.has(String(req.method)) && route.denyWrites.some((rule) => matches(path, rule))) {
    return { status: 403, error: `${req.method} ${path} changes ${route.name}'s rings or configuration and is not served on the published port (GET still is)` };
  }
  return undefined;
}

function refuse(res, why, extra = {}) {
  const body = JSON.stringify({ error: why.error });
  res.writeHead(why.status, { ...extra, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
}

/** One listener per route. Returns the servers (tests close them). */
export function startGateway(routes, { host = '0.0.0.0', log = console } = {}) {
  return routes.map((route) => {
    const server = http.createServer((req, res) => {
      const why = refusal(req, route);
      if (why) {
        log.warn?.(`refused ${req.method} ${req.url} for ${route.name} (Host ${req.headers.host ?? '-'}, Origin ${req.headers.origin ?? '-'}): ${why.error}`);
        req.resume();
        return refuse(res, why);
      }
      const upstream = http.request(
        { host: route.upstream.host, port: route.upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.statusMessage, up.rawHeaders);
          up.pipe(res);
        },
      );
      upstream.on('error', (e) => {
        if (res.headersSent) return res.destroy();
        // The code in a header too: a readiness probe reports it as it would on the backend's own port.
        refuse(res, { status: 502, error: `${route.name} does not answer at ${route.upstream.host}:${route.upstream.port} (${e.code ?? e.message})` }, { [route.errorHeader]: e.code ?? 'error' });
      });
      res.on('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    // WebSocket and other upgrades (Loki's /loki/api/v1/tail): the same checks, then the raw bytes both ways.
    server.on('upgrade', (req, socket, head) => {
      const why = refusal(req, route);
      if (why) {
        socket.end(`HTTP/1.1 ${why.status} Refused\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: why.error })}`);
        return;
      }
      const up = net.connect(route.upstream.port, route.upstream.host, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`];
        for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
        up.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head?.length) up.write(head);
        up.pipe(socket).pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    server.on('clientError', (_e, socket) => socket.destroy());
    server.listen(route.listen, host);
    return server;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let routes;
  try {
    routes = JSON.parse(process.env.MOP_GATEWAY_ROUTES ?? '');
  } catch (e) {
    console.error(`mop-sandbox gateway: MOP_GATEWAY_ROUTES is not the JSON route list the stack model renders (${e.message})`);
    process.exit(2);
  }
  const servers = startGateway(routes);
  for (const [i, s] of servers.entries()) {
    s.on('listening', () => console.log(`mop-sandbox gateway: ${routes[i].name} on :${routes[i].listen} -> ${routes[i].upstream.host}:${routes[i].upstream.port}`));
    s.on('error', (e) => {
      console.error(`mop-sandbox gateway: cannot listen on :${routes[i].listen} for ${routes[i].name} (${e.message})`);
      process.exit(1);
    });
  }
  const stop = () => {
    for (const s of servers) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
