/**
 * The one recursive delete: it removes a directory only when it lies strictly inside `root` (the state
 * directory or a part of it), checked on the path as given and on the real path of its parent, so neither
 * ".." in a setting nor a symlinked directory can point it at anything else.
 */
import { realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';

function inside(root: string, path: string, allowEqual: boolean): boolean {
  const rel = relative(root, path);
  if (rel === '') return allowEqual;
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function real(path: string): Promise<string | undefined> {
  try {
    return await realpath(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

export class OutsideStateDir extends Error {
  constructor(readonly root: string, readonly target: string) {
    super(`refusing to delete ${target}: it is not inside ${root}`);
    this.name = 'OutsideStateDir';
  }
}

export async function removeUnder(root: string, target: string): Promise<void> {
  const r = resolve(root);
  const t = resolve(target);
  if (!inside(r, t, false)) throw new OutsideStateDir(r, t);
  const realRoot = await real(r);
  const realParent = await real(dirname(t));
  // Nothing to delete when the root or the target's parent does not exist.
  if (realRoot === undefined || realParent === undefined) return;
  if (!inside(realRoot, realParent, true)) throw new OutsideStateDir(realRoot, t);
  await rm(t, { recursive: true, force: true });
}
