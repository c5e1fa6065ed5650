/**
 * A minimal JSON router on node:http. It reports the matched route template to instrumentation-http
 * (through the RPC metadata in the context, as web frameworks do), so server spans are named "POST /orders"
 * and http.server.request.duration carries http.route.
 */
import http from 'node:http';
import { context, trace, isSpanContextValid } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';

export class HttpError extends Error {
  /** @param {number} status @param {string} message @param {Record<string, unknown>} [body] extra response fields */
  constructor(status, message, body = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function compile(method, template) {
  const keys = [];
  const pattern = template.replace(/:(\w+)/g, (_, key) => {
    keys.push(key);
    return '([^/]+)';
  });
  return { method, template, keys, regex: new RegExp(`^${pattern}$`) };
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text) return resolve({});
      try {
        resolve(JSON.parse(text));
      } catch {
        reject(new HttpError(400, 'request body is not JSON'));
      }
    });
  });
}

function send(res, status, body) {
  const span = trace.getActiveSpan()?.spanContext();
  // W3C trace-context "traceresponse": lets a caller (or a test) find the trace of its request.
  if (span && isSpanContextValid(span)) res.setHeader('traceresponse', `00-${span.traceId}-${span.spanId}-0${span.traceFlags}`);
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/**
 * @param {{ log: ReturnType<typeof import('../telemetry/logger.js').createLogger> }} deps
 * @param {Record<string, (req: { params: Record<string,string>, body: any, query: URLSearchParams }) => Promise<{ status?: number, body: unknown }>>} routes
 *   keyed by "METHOD /path/:param"
 */
export function createHttpServer({ log }, routes) {
  const table = Object.entries(routes).map(([key, handler]) => {
    const [method, template] = key.split(' ');
    return { ...compile(method, template), handler };
  });

  return http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = table.find((r) => r.method === req.method && r.regex.test(url.pathname));
    try {
      if (!route) throw new HttpError(404, `no route for ${req.method} ${url.pathname}`);
      const rpc = getRPCMetadata(context.active());
      if (rpc) rpc.route = route.template;
      const match = route.regex.exec(url.pathname);
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(match[i + 1])]));
      const body = req.method === 'GET' ? {} : await readJson(req);
      const result = await route.handler({ params, body, query: url.searchParams });
      send(res, result.status ?? 200, result.body);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 500;
      if (status >= 500) {
        trace.getActiveSpan()?.recordException(err);
        log.error(`${req.method} ${route?.template ?? url.pathname} failed`, { 'error.message': err.message, 'http.response.status_code': status });
      }
      send(res, status, { error: err.message, ...(err.body ?? {}) });
    }
  });
}
