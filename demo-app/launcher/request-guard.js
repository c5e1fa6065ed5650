/**
 * Checks for an HTTP API that listens on a loopback port: who may call it (Host, Origin, token) and what it
 * accepts (JSON bodies up to a size). Pure functions of the request, so the control API stays a router.
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export const MAX_BODY_BYTES = 64 * 1024;

export class BodyError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** "127.0.0.1:8099" -> "127.0.0.1", "[::1]:8099" -> "::1", "Demo:8099" -> "demo". */
function hostName(host) {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']'));
  return h.replace(/:\d*$/, '');
}

/**
 * DNS rebinding makes a browser send the attacker's own name as Host; it can never make it send an IP
 * literal it did not resolve. So IP literals (probes by pod IP, a remote engine's address), localhost and the
 * names the deployment gives (the compose service) pass; any other name is refused.
 */
export function hostAllowed(host, allowedHosts = []) {
  if (!host) return false;
  const name = hostName(host);
  return isIP(name) !== 0 || name === 'localhost' || allowedHosts.includes(name);
}

function tokenMatches(header, token) {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]);
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * Returns why a request is refused, or undefined. `open` routes (the health check, which reveals nothing and is
 * probed by whatever name reaches the engine) skip the Host and token checks.
 * @param {import('node:http').IncomingMessage} req
 * @param {{ token?: string, allowedHosts?: string[], open?: boolean }} opts
 */
export function checkRequest(req, { token, allowedHosts = [], open = false }) {
  if (!open && !hostAllowed(req.headers.host, allowedHosts)) {
    return { status: 421, error: `Host "${req.headers.host ?? ''}" is not this API's address; call it as 127.0.0.1 or localhost` };
  }
  // Browsers send Origin on every cross-origin call and on every POST; our clients (the CLI, curl) send none.
  if (req.headers.origin !== undefined) {
    return { status: 403, error: 'requests from web pages (with an Origin header) are refused; use `mop-sandbox scenario` or curl' };
  }
  if (req.method === 'POST') {
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json') {
      return { status: 415, error: `POST bodies must be Content-Type: application/json (got "${req.headers['content-type'] ?? 'none'}")` };
    }
  }
  if (token && !open && !tokenMatches(req.headers.authorization, token)) {
    return { status: 401, error: 'missing or wrong control token (Authorization: Bearer <token>); `mop-sandbox scenario` sends the one in its state file' };
  }
  return undefined;
}

/** The body as a JSON object ({} when empty); BodyError 413 past MAX_BODY_BYTES, 400 when not a JSON object. */
export function readJsonBody(req, limit = MAX_BODY_BYTES) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyError(413, `the request body is larger than ${limit} bytes`));
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        reject(new BodyError(413, `the request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('error', reject);
    req.on('end', () => {
      if (size > limit) return;
      const text = Buffer.concat(chunks).toString('utf8').trim();
      if (!text) return resolve({});
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        return reject(new BodyError(400, 'the request body must be a JSON object of parameters'));
      }
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return reject(new BodyError(400, 'the request body must be a JSON object of parameters'));
      resolve(parsed);
    });
  });
}
