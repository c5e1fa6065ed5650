/**
 * What a stack exposes beyond the user's own account, said before anything starts: ports bound off loopback
 * (every API there is unauthenticated) need an explicit flag, and an image swapped on a component that holds
 * host privileges or reads them (the gateway's image runs the socket proxy with the Docker socket on compose, Alloy
 * reads container logs and settings, OBI is privileged in the host PID namespace) is announced.
 */
import { usageError } from '../lib/errors.js';
import type { Component, Stack, StackOptions } from './model.js';
import { GATEWAY } from './gateway.js';

export const ALLOW_NON_LOOPBACK_FLAG = 'allow-non-loopback';

export const isLoopback = (address: string) => address === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address);

function privilege(c: Component): string | undefined {
  if (c.privileged || c.hostPid) return 'runs privileged in the host PID namespace';
  if (c.collectsLogs) return 'reads container logs and settings (not their environment) through the socket proxy, or pod logs (every container\'s or pod\'s with collectAllLogs)';
  // The compose render runs the socket proxy on the gateway's image (render/compose.ts).
  if (c.name === GATEWAY) return 'on compose also runs the socket proxy, which holds the Docker socket (root on the engine\'s host)';
  return undefined;
}

/** Throws when the bind address is off loopback without the flag; returns the warnings to print. */
export function exposureWarnings(stack: Stack, opts: StackOptions, allowNonLoopback: boolean): string[] {
  const warnings: string[] = [];
  if (!isLoopback(stack.bindAddress)) {
    if (!allowNonLoopback) {
      throw usageError(
        `bindAddress ${stack.bindAddress} would publish every port beyond this machine's loopback, and Loki, Mimir, Tempo, Alloy and the store answer anyone without a password`,
        `keep the default 127.0.0.1, or pass --${ALLOW_NON_LOOPBACK_FLAG} if every host that can reach ${stack.bindAddress} is trusted`,
      );
    }
    warnings.push(`ports are published on ${stack.bindAddress}: anyone who can reach that address can read and write the stack's data (--${ALLOW_NON_LOOPBACK_FLAG})`);
  }
  for (const c of stack.components) {
    const why = privilege(c);
    if (!why) continue;
    const source = opts.imageOverrides?.[c.name] ? 'an image override' : opts.registryMirror && !c.build ? `the registry mirror ${opts.registryMirror}` : undefined;
    if (source) warnings.push(`${c.name} ${why}, and its image comes from ${source}: ${c.image}; use it only if you trust it`);
  }
  return warnings;
}
