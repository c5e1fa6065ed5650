import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** The package root (holds package.json, config/, dashboards/), from source (scripts/lib) or build (dist/scripts/lib). */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(resolve(dir, 'package.json')) && existsSync(resolve(dir, 'config'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('mop-sandbox: cannot find the package root (package.json next to config/)');
}

export const packageRoot = findRoot();
export const configDir = resolve(packageRoot, 'config');
export const dashboardsDir = resolve(packageRoot, 'dashboards');
export const composeDir = resolve(packageRoot, 'compose');
export const k8sDir = resolve(packageRoot, 'k8s');
export const demoAppDir = resolve(packageRoot, 'demo-app');
