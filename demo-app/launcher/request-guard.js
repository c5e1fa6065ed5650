/**
 * Checks for an HTTP API that listens on a loopback port: who may call it (Host, Origin, token) and what it
 * accepts. Pure functions of the request, so the control API stays a router (bodies: ../lib/json-body.js).
 */
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * "127.0.0.1:8099" -> "127.0.0.1", "[::1]:8099" -> "::1", "Demo:8099" -> "demo"; "" for what is not a Host (an IPv6
 * address without brackets). The same parse as the gateway's (config/gateway/gateway.mjs splitHost).
 */
function hostName(host) {
  const h = host.trim().toLowerCase();
  const m = /^\[([^\]]+)\](?::\d*)?$/.exec(h) ?? /^([^:]+)(?::\d*)?$/.exec(h);
  return m ? m[1] : '';
}

/**
 * DNS rebinding makes a browser send the attacker's own name as Host; it can never make it send an IP
 * literal it did not resolve. So IP literals (probes by pod IP, a remote engine's address), localhost and the
 * names the deployment gives (the compose service) pass; any other name is refused.
 */
export function hostAllowed(host, allowedHosts = []) {
  if (!host) return false;
  const name = hostName(host);
  if (!name) return false;
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
