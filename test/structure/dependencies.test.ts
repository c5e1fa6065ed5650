/**
 * The dependency rule, read from the import statements of scripts/:
 *
 *   cli.ts, run.ts → commands/ → verify/ → runtimes/ · otlp/ → render/ · clients/ → stack/ · lib/
 *
 * Every layer imports only layers to its right (stack/ and lib/ form the base and may import each other); nothing
 * imports upward. And `--help`/`--version` stay fast: what the bin loads statically reaches no third-party package.
 *
 * Inside runtimes/: each runtime is a folder whose files follow `up`'s stages, with the same names in both, and a
 * runtime's files never import the other runtime's; the shared modules (runtimes/*.ts) import no runtime folder
 * except select.ts, which picks one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const scripts = join(root, 'scripts');

type Layer = 'entry' | 'commands' | 'verify' | 'runtimes' | 'otlp' | 'render' | 'clients' | 'stack' | 'lib';
const base: Layer[] = ['stack', 'lib'];
/** What each layer may import (besides itself). */
const allowed: Record<Layer, Layer[]> = {
  entry: ['commands', 'runtimes', ...base],
  commands: ['verify', 'runtimes', 'otlp', 'render', 'clients', ...base],
  verify: ['runtimes', 'otlp', 'render', 'clients', ...base],
  runtimes: ['render', ...base],
  otlp: ['clients', ...base],
  render: base,
  clients: base,
  stack: ['lib'],
  lib: ['stack'],
};

function layerOf(file: string): Layer {
  const rel = relative(scripts, file).split('/');
  if (rel.length === 1) return 'entry';
  if (!(rel[0] in allowed)) throw new Error(`scripts/${rel[0]}/ has no place in the dependency rule: add it to test/structure/dependencies.test.ts`);
  return rel[0] as Layer;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

interface Import {
  spec: string;
  dynamic: boolean;
  typeOnly: boolean;
}
function importsOf(file: string): Import[] {
  const src = readFileSync(file, 'utf8');
  const found: Import[] = [];
  for (const m of src.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\sfrom\s+'([^']+)'/gm)) found.push({ spec: m[3], dynamic: false, typeOnly: Boolean(m[2]) });
  for (const m of src.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push({ spec: m[1], dynamic: false, typeOnly: false });
  for (const m of src.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push({ spec: m[1], dynamic: true, typeOnly: false });
  return found;
}
const resolveLocal = (from: string, spec: string) => resolve(dirname(from), spec).replace(/\.js$/, '.ts');

describe('dependency rule', () => {
  const all = files(scripts);

  it('every import goes to the same layer or one the rule allows (never upward)', () => {
    const violations: string[] = [];
    for (const f of all) {
      const from = layerOf(f);
      for (const { spec } of importsOf(f)) {
        if (!spec.startsWith('.')) continue;
        const to = layerOf(resolveLocal(f, spec));
        if (to !== from && !allowed[from].includes(to)) violations.push(`${relative(root, f)} (${from}) imports ${spec} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  /** Third-party packages a module loads statically (directly or through local modules). */
  function staticPackages(entry: string): { modules: number; packages: string[] } {
    const seen = new Set<string>();
    const packages: string[] = [];
    const walk = (f: string) => {
      if (seen.has(f)) return;
      seen.add(f);
      for (const i of importsOf(f)) {
        if (i.dynamic || i.typeOnly) continue;
        if (i.spec.startsWith('.')) walk(resolveLocal(f, i.spec));
        else if (!i.spec.startsWith('node:')) packages.push(`${relative(root, f)} imports ${i.spec}`);
      }
    };
    walk(entry);
    return { modules: seen.size, packages };
  }

  it('what the bin loads before a command runs (static imports from scripts/cli.ts) reaches no third-party package', () => {
    const { modules, packages } = staticPackages(join(scripts, 'cli.ts'));
    expect(modules).toBeGreaterThan(3);
    expect(packages).toEqual([]);
  });

  const runtimesDir = join(scripts, 'runtimes');
  const runtimeFolders = ['compose', 'kind'];
  /** `up`'s stages, one file each, the same names in every runtime. */
  const stageFiles = ['context', 'preflight', 'images', 'start', 'wait', 'diagnose', 'status', 'logs', 'teardown', 'index'];
  /** Helpers only one runtime has (pure readers of its own tool's answers). */
  const runtimeHelpers: Record<string, string[]> = { compose: [], kind: ['cluster-diff', 'kube-state'] };
  const folderOf = (file: string) => {
    const rel = relative(runtimesDir, file).split('/');
    return rel.length > 1 && !rel[0].startsWith('..') ? rel[0] : undefined;
  };

  it('every runtime is a folder with the same stage files (and only its declared helpers besides)', () => {
    const folders = readdirSync(runtimesDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    expect(folders).toEqual(runtimeFolders);
    for (const rt of runtimeFolders) {
      const names = readdirSync(join(runtimesDir, rt)).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
      expect(names, `scripts/runtimes/${rt}/`).toEqual([...stageFiles, ...runtimeHelpers[rt]].sort());
    }
    // No runtime is left as a single file next to the shared modules.
    for (const rt of runtimeFolders) expect(all.includes(join(runtimesDir, `${rt}.ts`)), `scripts/runtimes/${rt}.ts`).toBe(false);
  });

  it("a runtime's files never import the other runtime; shared runtime modules import no runtime folder except select.ts", () => {
    const violations: string[] = [];
    for (const f of all.filter((x) => !relative(runtimesDir, x).startsWith('..'))) {
      const from = folderOf(f);
      for (const { spec } of importsOf(f)) {
        if (!spec.startsWith('.')) continue;
        const target = resolveLocal(f, spec);
        if (relative(runtimesDir, target).startsWith('..')) continue;
        const to = folderOf(target);
        if (!to || to === from) continue;
        if (from === undefined && relative(runtimesDir, f) === 'select.ts') continue;
        violations.push(`${relative(root, f)} imports ${spec}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("a command's module (all `<command> --help` loads) reaches no third-party package: they load when the command runs", () => {
    const packages = files(join(scripts, 'commands')).flatMap((f) => staticPackages(f).packages);
    expect([...new Set(packages)]).toEqual([]);
  });
});
