/**
 * Writes dashboards/*.json from the typed sources in this folder.
 *
 *   npx tsx dashboards/src/build.ts           # regenerate
 *   npx tsx dashboards/src/build.ts --check   # exit 1 if a committed file is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dashboards, render } from './index.js';

const outDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
const stale: string[] = [];

for (const [file, build] of Object.entries(dashboards)) {
  const path = join(outDir, file);
  const text = render(build());
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  if (check) stale.push(file);
  else {
    writeFileSync(path, text);
    console.log(`wrote dashboards/${file}`);
  }
}

if (stale.length) {
  console.error(`stale: ${stale.map((f) => `dashboards/${f}`).join(', ')}; run: npx tsx dashboards/src/build.ts`);
  process.exit(1);
}
