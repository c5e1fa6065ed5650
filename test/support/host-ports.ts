/**
 * Host ports for tests that bind or publish them: unique within this process (tests run concurrently) and below
 * the kernel's ephemeral range (32768+ on Linux), so neither an outgoing connection nor another test's port-0
 * listener can take one between choosing it and using it.
 */
import { canBind } from '../../scripts/lib/ports.js';

const handedOut = new Set<number>();

export async function unusedPort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canBind('127.0.0.1', port)) return port;
  }
}
