/**
 * Host ports for tests that bind or publish them: unique within this process (tests run concurrently), in a block
 * of their own per vitest worker (files run in parallel workers, VITEST_POOL_ID 1..n), and below the kernel's
 * ephemeral range (32768+ on Linux), so neither an outgoing connection, another test's port-0 listener nor another
 * worker can take one between choosing it and using it.
 */
import { canBind } from '../../scripts/lib/ports.js';

const FIRST = 20000;
const BLOCKS = 16;
const BLOCK_SIZE = 750; // 16 × 750 ports: 20000-31999
const block = (Number(process.env.VITEST_POOL_ID ?? 0) || 0) % BLOCKS;
const handedOut = new Set<number>();

export async function unusedPort(): Promise<number> {
  for (;;) {
    if (handedOut.size >= BLOCK_SIZE) throw new Error(`all ${BLOCK_SIZE} test ports of worker block ${block} are handed out`);
    const port = FIRST + block * BLOCK_SIZE + Math.floor(Math.random() * BLOCK_SIZE);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await canBind('127.0.0.1', port)) return port;
  }
}
