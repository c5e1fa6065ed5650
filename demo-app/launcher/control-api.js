/**
 * The control API (DEMO_CONTROL_PORT, default 8099):
 *   GET  /healthz                  200 when every child is up, else 503; both list the children
 *   GET  /scenarios                the scenarios, their parameters and which are on
 *   POST /scenarios/<name>/start   JSON body with parameters, e.g. {"rate":0.3,"durationS":60}
 *   POST /scenarios/<name>/stop    stop one
 *   POST /scenarios/stop           stop all
 * It runs in the launcher, which is not instrumented: switching scenarios adds no telemetry of its own.
 *
 * It listens on 127.0.0.1, where any web page the user opens can reach it, so (see request-guard.js):
 * the Host must be an IP address, localhost or an allowed name (no DNS rebinding), a browser's Origin is refused,
 * POST bodies must be application/json (no CORS "simple request"), and when DEMO_CONTROL_TOKEN is set every
 * request but /healthz needs `Authorization: Bearer <token>` (mop-sandbox reads it from its state file).
 * A malformed request gets a 4xx; nothing a client sends can stop the launcher.
 */
import http from 'node:http';
import { BodyError, readJsonBody } from '../lib/json-body.js';
import { checkRequest } from './request-guard.js';

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

const routes = ['GET /healthz', 'GET /scenarios', 'POST /scenarios/<name>/start', 'POST /scenarios/<name>/stop', 'POST /scenarios/stop'];

/**
 * @param {{ registry: ReturnType<typeof import('./scenario-registry.js').createScenarioRegistry>,
 *   supervisor: ReturnType<typeof import('./supervisor.js').createSupervisor>,
 *   token?: string, allowedHosts?: string[] }} deps
 */
export function createControlApi({ registry, supervisor, token, allowedHosts = [] }) {
  async function handle(req, res) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const get = req.method === 'GET';
    const post = req.method === 'POST';

    const refused = checkRequest(req, { token, allowedHosts, open: get && path === '/healthz' });
    if (refused) return reply(res, refused.status, { error: refused.error });

    if (get && path === '/healthz') {
      const ok = supervisor.allReady();
      return reply(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', children: supervisor.status() });
    }
    if (get && path === '/scenarios') return reply(res, 200, { scenarios: registry.list() });
    // Every POST body is read (and size-checked) even when the route ignores it.
    const body = post ? await readJsonBody(req) : undefined;
    if (post && path === '/scenarios/stop') return reply(res, 200, { stopped: registry.stop() });

    const match = /^\/scenarios\/([^/]+)\/(start|stop)$/.exec(path);
    if (post && match) {
      let name;
      try {
        name = decodeURIComponent(match[1]);
      } catch {
        return reply(res, 400, { error: `the scenario name in ${path} is not valid percent-encoding` });
      }
      if (!registry.has(name)) {
        return reply(res, 404, { error: `unknown scenario "${name}"`, known: registry.list().map((s) => s.name) });
      }
      if (match[2] === 'stop') return reply(res, 200, { stopped: registry.stop(name) });
      const started = registry.start(name, body);
      return started.ok ? reply(res, 200, { started: started.scenario }) : reply(res, 400, { error: started.error });
    }
    return reply(res, 404, { error: `no route for ${req.method} ${path}`, routes });
  }

  return http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      const status = err instanceof BodyError ? err.status : 500;
      if (res.headersSent) return res.destroy();
      // A refused body may still be arriving: answer, discard the rest, and close the connection.
      if (status === 413) res.setHeader('connection', 'close');
      reply(res, status, { error: err instanceof BodyError ? err.message : `internal error: ${err?.message ?? err}` });
      req.resume();
    });
  });
}
