/**
 * The control API (DEMO_CONTROL_PORT, default 8099):
 *   GET  /healthz                  200 when every child is up, else 503; both list the children
 *   GET  /scenarios                the scenarios, their parameters and which are on
 *   POST /scenarios/<name>/start   JSON body with parameters, e.g. {"rate":0.3,"durationS":60}
 *   POST /scenarios/<name>/stop    stop one
 *   POST /scenarios/stop           stop all
 * It runs in the launcher, which is not instrumented: switching scenarios adds no telemetry of its own.
 */
import http from 'node:http';

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body, null, 2) + '\n');
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      try {
        const parsed = JSON.parse(text);
        resolve(parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : Symbol.for('invalid'));
      } catch {
        resolve(Symbol.for('invalid'));
      }
    });
  });
}

/**
 * @param {{ registry: ReturnType<typeof import('./scenario-registry.js').createScenarioRegistry>,
 *   supervisor: ReturnType<typeof import('./supervisor.js').createSupervisor> }} deps
 */
export function createControlApi({ registry, supervisor }) {
  return http.createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
    const get = req.method === 'GET';
    const post = req.method === 'POST';

    if (get && path === '/healthz') {
      const ok = supervisor.allReady();
      return reply(res, ok ? 200 : 503, { status: ok ? 'ok' : 'unavailable', children: supervisor.status() });
    }
    if (get && path === '/scenarios') return reply(res, 200, { scenarios: registry.list() });
    if (post && path === '/scenarios/stop') return reply(res, 200, { stopped: registry.stop() });

    const match = /^\/scenarios\/([^/]+)\/(start|stop)$/.exec(path);
    if (post && match) {
      const name = decodeURIComponent(match[1]);
      if (!registry.has(name)) {
        return reply(res, 404, { error: `unknown scenario "${name}"`, known: registry.list().map((s) => s.name) });
      }
      if (match[2] === 'stop') return reply(res, 200, { stopped: registry.stop(name) });
      const body = await readBody(req);
      if (typeof body === 'symbol') return reply(res, 400, { error: 'the request body must be a JSON object of parameters' });
      const started = registry.start(name, body);
      return started.ok ? reply(res, 200, { started: started.scenario }) : reply(res, 400, { error: started.error });
    }
    return reply(res, 404, { error: `no route for ${req.method} ${path}`, routes: ['GET /healthz', 'GET /scenarios', 'POST /scenarios/<name>/start', 'POST /scenarios/<name>/stop', 'POST /scenarios/stop'] });
  });
}
