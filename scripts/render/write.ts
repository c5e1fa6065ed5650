/**
 * Writes a render to a directory: creates it, writes every file atomically with its mode (credentials 0600
 * from the first byte), removes files an earlier render wrote that this one no longer has, and returns the paths.
 * An unwritable directory is bad input: one clear line, exit code 2.
 */
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { usageError } from '../lib/errors.js';
import type { RenderFile } from './common.js';

/** Lists what the last render wrote into a directory, so a later render can remove what it no longer writes. */
export const RENDER_INDEX = '.mop-render.json';

const reasons: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'a parent is a file, not a directory',
  EEXIST: 'it exists and is not a directory',
  ENOSPC: 'no space left on the device',
  EISDIR: 'a directory is in the way of a file',
  ENOENT: 'the file system does not allow creating it',
};

/**
 * mkdir -p that cannot spin: Node's recursive mkdir loops forever where the kernel answers ENOENT for a path
 * under an existing directory (/proc/x, /sys/x). Find the nearest existing ancestor, then create one level at a time.
 */
export async function mkdirp(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    try {
      if ((await stat(d)).isDirectory()) break;
      throw Object.assign(new Error(`${d} is not a directory`), { code: d === resolve(dir) ? 'EEXIST' : 'ENOTDIR' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw e;
      missing.unshift(d);
    }
  }
  for (const d of missing) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}

function unwritable(dir: string, e: unknown) {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  return usageError(`cannot write to ${dir}: ${reasons[code] ?? (e as Error).message}; choose another directory with --out`);
}

function safeRelative(path: string): boolean {
  const n = normalize(path);
  return !(isAbsolute(n) || n === '..' || n.startsWith('../'));
}

function checkRelative(path: string): string {
  const n = normalize(path);
  if (!safeRelative(n)) throw new Error(`render file path "${path}" must stay inside the output directory`);
  return n;
}

export interface WriteOptions {
  /** Keep an index of written files and remove what an earlier render wrote but this one does not (default true). */
  prune?: boolean;
}

export async function writeRender(dir: string, files: RenderFile[], opts: WriteOptions = {}): Promise<string[]> {
  const prune = opts.prune ?? true;
  const root = resolve(dir);
  try {
    await mkdirp(root);
  } catch (e) {
    throw unwritable(root, e);
  }
  const rels = files.map((f) => checkRelative(f.path));
  let previous: string[] = [];
  if (prune) {
    try {
      previous = JSON.parse(await readFile(join(root, RENDER_INDEX), 'utf8')).files ?? [];
    } catch {
      previous = [];
    }
  }
  const written: string[] = [];
  try {
    for (const [i, f] of files.entries()) {
      const target = join(root, rels[i]);
      await mkdirp(dirname(target));
      const mode = f.mode ?? 0o644;
      const tmp = `${target}.${process.pid}.tmp`;
      await writeFile(tmp, f.content, { mode });
      await chmod(tmp, mode);
      await rename(tmp, target);
      written.push(target);
    }
    if (prune) {
      const keep = new Set(rels);
      for (const old of previous) {
        if (typeof old !== 'string' || keep.has(old) || !safeRelative(old)) continue;
        await rm(join(root, normalize(old)), { force: true });
      }
      await writeFile(join(root, RENDER_INDEX), JSON.stringify({ files: rels }, null, 2) + '\n');
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code) throw unwritable(root, e);
    throw e;
  }
  return written;
}
