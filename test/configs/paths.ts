/** Where the config tests find the repository, its config/ and the project workspace's ../shared. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const configDir = resolve(repoRoot, 'config');
export const dashboardsDir = resolve(repoRoot, 'dashboards');
/** ../shared exists in the project workspace and CI, not in a user's clone. */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const referenceDir = resolve(sharedDir, 'reference');
export const checkerPath = resolve(sharedDir, 'tools', 'check-config-keys.mjs');
export const sharedAvailable = existsSync(referenceDir);
