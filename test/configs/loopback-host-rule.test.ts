/**
 * The loopback Host rule lives in two processes that share no code (each ships in its own image): the gateway
 * (config/gateway/gateway.mjs, in front of the backends' published ports) and the demo's control API
 * (demo-app/launcher/request-guard.js). One table of Host headers, both functions: they must accept and refuse the
 * same names, so a change to one that the other does not follow fails here.
 */
import { describe, expect, it } from 'vitest';
import { refusal } from '../../config/gateway/gateway.mjs';
import { hostAllowed } from '../../demo-app/launcher/request-guard.js';

const PORT = 3100;
const route = { name: 'loki', listen: PORT, hostPort: PORT, upstream: { host: 'loki', port: PORT }, origins: [], deny: [], denyWrites: [], errorHeader: 'x-test' };

/** [Host header (with the route's port), allowed?, why]. */
const cases: [string, boolean, string][] = [
  [`127.0.0.1:${PORT}`, true, 'IPv4 loopback literal'],
  [`localhost:${PORT}`, true, 'localhost'],
  [`LocalHost:${PORT}`, true, 'names are case-insensitive'],
  [`[::1]:${PORT}`, true, 'IPv6 literal in brackets'],
  [`192.168.5.2:${PORT}`, true, 'any IP literal (a remote engine, a pod IP): rebinding cannot produce one'],
  [`evil.example:${PORT}`, false, 'a DNS name: what rebinding sends'],
  [`localhost.evil.example:${PORT}`, false, 'localhost as a prefix'],
  [`127.0.0.1.nip.io:${PORT}`, false, 'an IP as a prefix of a name'],
  [`::1:${PORT}`, false, 'IPv6 without brackets is not a valid Host'],
  ['', false, 'no Host at all'],
];

describe('one loopback Host rule in the gateway and the demo control API', () => {
  it.each(cases)('%s → allowed %s (%s)', (host, allowed) => {
    const gateway = refusal({ method: 'GET', url: '/ready', headers: { host } }, route) === undefined;
    expect(gateway).toBe(allowed);
    expect(hostAllowed(host)).toBe(allowed);
  });
});
