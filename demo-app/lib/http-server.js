/**
 * A minimal JSON router on node:http. It reports the matched route template to instrumentation-http
 * (through the RPC metadata in the context, as web frameworks do), so server spans are named "POST /orders"
 * and http.server.request.duration carries http.route.
 */
import http from 'node:http';
import { context, trace, isSpanContextValid } from '@opentelemetry/api';
import { getRPCMetadata } from '@opentelemetry/core';
import { BodyError, readJsonBody } from './json-body.js';

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

/** The JSON body, with the body reader's 413/400 as this router's HttpError. */
const readJson = (req) =>
  readJsonBody(req).catch((err) => {
    throw err instanceof BodyError ? new HttpError(err.status, err.message) : err;
  });

function decodeParam(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpError(400, `"${raw}" is not valid percent-encoding`);
  }
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
      const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeParam(match[i + 1])]));
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
