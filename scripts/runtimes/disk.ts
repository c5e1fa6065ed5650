/**
 * Free disk where the engine keeps volumes (DockerRootDir) against what the profile's data needs (the model's
 * per-component `diskNeed`). Measured with statfs when the engine runs on this machine (a local socket and plain
 * dockerd); an engine in a VM (Docker Desktop, Colima, ...) keeps its disk out of reach, which is said, not guessed.
 */
import { statfs } from 'node:fs/promises';
import type { Stack } from '../stack/model.js';
import type { PreflightCheck } from './runtime.js';
import type { Engine } from '../lib/docker.js';
import { parseBytes } from './preflight.js';
import { isLocalLinux, isRemote } from './engine-plan.js';

export interface DiskReading {
  /** DockerRootDir, when the engine reports it. */
  path?: string;
  /** Free bytes for unprivileged writers there; undefined when it cannot be measured from here. */
  free?: number;
  /** Why it was not measured. */
  unmeasured?: string;
  /** What the stack's data needs (bytes). */
  needs: number;
}

const gib = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(1)} GiB`;

export function diskNeeds(stack: Stack): number {
  return stack.components.reduce((sum, c) => sum + (c.diskNeed ? parseBytes(c.diskNeed) : 0), 0);
}

/** statfs of a path: bytes available to unprivileged users (what a container's non-root process can fill). */
export type FreeBytes = (path: string) => Promise<number>;
export const freeBytes: FreeBytes = async (path) => {
  const s = await statfs(path);
  return s.bavail * s.bsize;
};

export async function readDisk(
  stack: Stack,
  engine: Pick<Engine, 'rootDir' | 'product' | 'endpoint'>,
  free: FreeBytes = freeBytes,
  platform: NodeJS.Platform = process.platform,
): Promise<DiskReading> {
  const needs = diskNeeds(stack);
  const path = engine.rootDir;
  if (!path) return { needs, unmeasured: 'the engine does not say where it keeps volumes' };
  // Only a local Linux engine (dockerd, Podman) keeps volumes on this machine's disks.
  if (!isLocalLinux(engine, platform) || !engine.endpoint.host.startsWith('unix://')) {
    return { path, needs, unmeasured: isRemote(engine.endpoint) || (engine.product === 'dockerd' && platform === 'linux') ? 'the engine runs on another machine' : `${engine.product} keeps it in its VM` };
  }
  try {
    return { path, needs, free: await free(path) };
  } catch (e) {
    return { path, needs, unmeasured: `cannot read it from here (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}

/** Low: less free than the data needs. Preflight fails below the needs and warns below twice the needs. */
export const diskLow = (d: DiskReading) => d.free !== undefined && d.free < d.needs;

export const diskFix = 'free space on that disk (`docker system df` shows what Docker holds there), or use `--profile dev`, which needs less';

export function checkDisk(stack: Stack, d: DiskReading): PreflightCheck {
  const title = `free disk for the ${stack.profile.name} profile's data`;
  if (d.free === undefined) {
    return { id: 'disk', title, ok: true, severity: 'warn', detail: `free disk where Docker keeps volumes${d.path ? ` (${d.path})` : ''} not measured: ${d.unmeasured}` };
  }
  const where = `${gib(d.free)} free at ${d.path}`;
  if (d.free < d.needs) {
    return { id: 'disk', title, ok: false, severity: 'error', detail: `${where}; the ${stack.profile.name} profile's data needs ${gib(d.needs)}`, fix: diskFix };
  }
  if (d.free < 2 * d.needs) {
    return { id: 'disk', title, ok: false, severity: 'warn', detail: `${where}: enough to start (${gib(d.needs)} needed) but little room to grow`, fix: diskFix };
  }
  return { id: 'disk', title, ok: true, severity: 'error', detail: `${where}, ${gib(d.needs)} needed` };
}

/** A log line saying the disk is full (Linux ENOSPC, as Go and most runtimes print it). */
export const diskFullLine = (lines: string[]) => lines.find((l) => /no space left on device|ENOSPC|disk quota exceeded/i.test(l));
