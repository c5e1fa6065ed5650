/**
 * JSON calls to another demo service over node:http, so instrumentation-http makes the client span
 * and injects traceparent. Resolves with any status; rejects only on network errors and timeouts.
 */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** @param {string} baseUrl e.g. http://127.0.0.1:8091 */
export function createClient(baseUrl, { timeoutMs = 15_000 } = {}) {
  const base = new URL(baseUrl);
  return {
    /** @returns {Promise<{ status: number, body: any }>} */
    request(method, path, body) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method,
            path,
            timeout: timeoutMs,
            headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
          },
          (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('error', reject);
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let parsed;
              try {
                parsed = text ? JSON.parse(text) : {};
              } catch {
                parsed = { raw: text };
              }
              resolve({ status: res.statusCode ?? 0, body: parsed });
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${method} ${baseUrl}${path} timed out after ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
  };
}
