/**
 * Writes a render to a directory: creates it, writes every file atomically with its mode (credentials 0600
 * from the first byte), removes files an earlier render wrote that this one no longer has, and returns the paths.
 * An unwritable directory is bad input: one clear line, exit code 2.
 * The directory may come from a cloned repository or be shared, so nothing here follows a symlink: not the
 * directory itself, not a directory inside it, not a temp file (exclusive, random name), not an index entry.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { ExitCode, UserError, usageError } from '../lib/errors.js';
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
  /**
   * Refuse to replace a file this tool did not write (not in the directory's index), and a non-empty directory
   * without an index: `render --out` into someone's project must not clobber its .env (off with --force).
   */
  refuseForeign?: boolean;
}

/** A path under the output directory that is a symlink, or a directory that others can write to: never followed. */
export class UnsafePath extends Error {
  constructor(readonly path: string, readonly why: string) {
    super(`${path} ${why}`);
    this.name = 'UnsafePath';
  }
}

async function lstatOrUndefined(path: string) {
  try {
    return await lstat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * The output directory itself: not a symlink (a cloned repository could point mop-render/x at ~/.ssh), and not
 * writable by other users (who could plant links or files between our checks and our writes).
 */
async function checkRoot(root: string): Promise<void> {
  const st = await lstat(root);
  if (st.isSymbolicLink()) throw new UnsafePath(root, 'is a symlink; pass the directory it points to with --out if you mean it');
  if (!st.isDirectory()) throw Object.assign(new Error(`${root} is not a directory`), { code: 'EEXIST' });
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new UnsafePath(root, `belongs to another user (uid ${st.uid})`);
  if (st.mode & 0o022) throw new UnsafePath(root, `is writable by other users (mode ${(st.mode & 0o777).toString(8)})`);
}

/** Creates the directories from root down to `dir`, one level at a time, refusing any symlink on the way. */
async function mkdirInside(root: string, dir: string): Promise<void> {
  let current = root;
  for (const part of relative(root, dir).split(sep).filter(Boolean)) {
    current = join(current, part);
    const st = await lstatOrUndefined(current);
    if (st?.isSymbolicLink()) throw new UnsafePath(current, 'is a symlink inside the output directory; remove it first');
    if (st && !st.isDirectory()) throw Object.assign(new Error(`${current} is not a directory`), { code: 'ENOTDIR' });
    if (!st) await mkdir(current, { mode: 0o755 });
  }
}

/** Writes through a new file (exclusive, unpredictable name, never following a link), then renames it over the target. */
async function writeAtomic(target: string, content: string | Buffer, mode: number): Promise<void> {
  const tmp = `${target}.${randomBytes(8).toString('hex')}.tmp`;
  const fh = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    await fh.writeFile(content);
    await fh.chmod(mode);
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

async function readIndex(root: string): Promise<string[] | undefined> {
  const st = await lstatOrUndefined(join(root, RENDER_INDEX));
  if (!st || !st.isFile()) return undefined;
  try {
    const files = JSON.parse(await readFile(join(root, RENDER_INDEX), 'utf8')).files;
    return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string' && safeRelative(f)).map((f) => normalize(f)) : [];
  } catch {
    return [];
  }
}

/** True when every component from root to `path` is a real directory and `path` a regular file (prune deletes only those). */
async function plainFileInside(root: string, path: string): Promise<boolean> {
  let current = root;
  const parts = relative(root, path).split(sep).filter(Boolean);
  for (const [i, part] of parts.entries()) {
    current = join(current, part);
    const st = await lstatOrUndefined(current);
    if (!st) return false;
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return false;
  }
  return parts.length > 0;
}

function foreignError(root: string, what: string): UserError {
  return new UserError({
    what: `refusing to write into ${root}: ${what}`,
    why: 'mop-sandbox replaces only files an earlier render wrote there (listed in its .mop-render.json)',
    next: 'choose an empty or new directory with --out, or pass --force to replace the files',
    exitCode: ExitCode.usage,
    code: 'RENDER_WOULD_OVERWRITE',
  });
}

export async function writeRender(dir: string, files: RenderFile[], opts: WriteOptions = {}): Promise<string[]> {
  const prune = opts.prune ?? true;
  const root = resolve(dir);
  try {
    await mkdirp(root);
    await checkRoot(root);
  } catch (e) {
    if (e instanceof UnsafePath) throw usageError(`cannot write to ${e.message}`, 'choose another directory with --out');
    throw unwritable(root, e);
  }
  const rels = files.map((f) => checkRelative(f.path));
  const index = await readIndex(root);
  const previous = prune ? index ?? [] : [];
  const written: string[] = [];
  try {
    if (opts.refuseForeign) {
      const ours = new Set(index ?? []);
      if (index === undefined && (await readdir(root)).length > 0) throw foreignError(root, 'it is not empty and no earlier render wrote it');
      for (const rel of rels) {
        if (!ours.has(rel) && (await lstatOrUndefined(join(root, rel)))) throw foreignError(root, `${rel} exists and was not written by mop-sandbox`);
      }
    }
    for (const [i, f] of files.entries()) {
      const target = join(root, rels[i]);
      await mkdirInside(root, dirname(target));
      await writeAtomic(target, f.content, f.mode ?? 0o644);
      written.push(target);
    }
    if (prune) {
      const keep = new Set(rels);
      for (const old of previous) {
        if (keep.has(old)) continue;
        const path = join(root, old);
        if (await plainFileInside(root, path)) await rm(path, { force: true });
      }
      await writeAtomic(join(root, RENDER_INDEX), JSON.stringify({ files: rels }, null, 2) + '\n', 0o644);
    }
  } catch (e) {
    if (e instanceof UnsafePath) throw usageError(`cannot write to ${e.message}`, 'choose another directory with --out');
    if (e instanceof UserError) throw e;
    if ((e as NodeJS.ErrnoException).code) throw unwritable(root, e);
    throw e;
  }
  return written;
}
