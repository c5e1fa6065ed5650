/**
 * Checks parsed Alloy files against the Alloy component reference (../shared/reference/alloy-*-components.json):
 * components and config blocks exist, every attribute is an argument and every nested block a block of
 * that component (recursively), required arguments and blocks are present, labels are unique, and every
 * `component.label.export` reference names a declared component that has that export (of the right type
 * where the argument's type says so).
 */
import type { AlloyAttribute, AlloyBlock, AlloyFile } from '../support/alloy-grammar.js';

export interface ArgumentSpec {
  type: string;
  required: boolean;
  required_in_code?: boolean;
  not_in_code?: boolean;
}

export interface BlockSpec {
  required?: boolean;
  required_in_code?: boolean;
  repeatable?: boolean | null;
  not_in_code?: boolean;
  arguments?: Record<string, ArgumentSpec>;
  blocks?: Record<string, BlockSpec>;
}

export interface ComponentSpec extends BlockSpec {
  stability: string;
  exports?: Record<string, { type: string }>;
}

export interface AlloyReference {
  components: Record<string, ComponentSpec>;
  config_blocks: Record<string, ComponentSpec>;
}

export interface Problem {
  file: string;
  line: number;
  message: string;
}

/** Top-level names of the standard library (functions and namespaces) a reference may start with. */
const stdlib = new Set([
  'sys', 'env', 'constants', 'string', 'array', 'encoding', 'convert', 'json_path', 'coalesce', 'nonsensitive',
  'format', 'join', 'concat', 'split', 'replace', 'to_lower', 'to_upper', 'trim', 'trim_prefix', 'trim_suffix',
  'trim_space', 'json_decode', 'yaml_decode', 'base64_decode',
]);

/** An argument counts as required when the docs say so and the code does not disagree. */
const isRequired = (s: { required?: boolean; required_in_code?: boolean }) => Boolean(s.required) && s.required_in_code !== false;

interface Declared {
  file: string;
  block: AlloyBlock;
  spec: ComponentSpec;
}

/**
 * Checks one set of files that Alloy loads together (a directory given to `alloy run`).
 * `stabilityLevel` is Alloy's --stability.level (default: generally-available).
 */
export function checkAlloy(
  files: { name: string; parsed: AlloyFile }[],
  ref: AlloyReference,
  stabilityLevel: 'general-availability' | 'public-preview' | 'experimental' = 'general-availability',
): Problem[] {
  const problems: Problem[] = [];
  const declared = new Map<string, Declared>(); // "name.label"
  const allowed: Record<string, string[]> = {
    'general-availability': ['general-availability'],
    'public-preview': ['general-availability', 'public-preview'],
    experimental: ['general-availability', 'public-preview', 'experimental'],
  };

  for (const { name: file, parsed } of files) {
    for (const e of parsed.errors) problems.push({ file, line: e.line, message: e.message });
    for (const a of parsed.attributes) problems.push({ file, line: a.line, message: `attribute ${a.name} outside of any block` });
    for (const block of parsed.blocks) {
      const component = ref.components[block.name];
      const configBlock = ref.config_blocks[block.name];
      const spec = component ?? configBlock;
      if (!spec) {
        problems.push({ file, line: block.line, message: `unknown component or block ${block.name}` });
        continue;
      }
      if (component) {
        if (block.label === undefined) {
          problems.push({ file, line: block.line, message: `component ${block.name} needs a label` });
          continue;
        }
        if (!allowed[stabilityLevel].includes(component.stability)) {
          problems.push({
            file,
            line: block.line,
            message: `${block.name} is ${component.stability}; Alloy refuses it below --stability.level=${component.stability}`,
          });
        }
        const key = `${block.name}.${block.label}`;
        const before = declared.get(key);
        if (before) {
          problems.push({ file, line: block.line, message: `${block.name} "${block.label}" is also declared in ${before.file}` });
        } else {
          declared.set(key, { file, block, spec: component });
        }
      }
      checkBody(block, spec, block.name, file, problems);
    }
  }

  // References: component.label.export[.field...], across all files of the set.
  const visitRefs = (block: AlloyBlock, spec: BlockSpec, file: string) => {
    for (const attr of block.attributes) checkReferences(attr, spec.arguments?.[attr.name], file);
    for (const child of block.blocks) {
      const childSpec = spec.blocks?.[child.name];
      if (childSpec) visitRefs(child, childSpec, file);
    }
  };
  const checkReferences = (attr: AlloyAttribute, argSpec: ArgumentSpec | undefined, file: string) => {
    const resolved: string[] = [];
    for (const ref0 of attr.references) {
      const parts = ref0.path.split('.');
      let match: { name: string; i: number } | undefined;
      for (let i = parts.length - 1; i >= 1; i--) {
        const candidate = parts.slice(0, i).join('.');
        if (ref.components[candidate]) {
          match = { name: candidate, i };
          break;
        }
      }
      if (!match) {
        if (!stdlib.has(parts[0])) problems.push({ file, line: ref0.line, message: `unknown reference ${ref0.path}` });
        continue;
      }
      const label = parts[match.i];
      const exportName = parts[match.i + 1];
      const target = label === undefined ? undefined : declared.get(`${match.name}.${label}`);
      if (!target) {
        problems.push({ file, line: ref0.line, message: `${ref0.path}: no ${match.name} "${label ?? ''}" is declared` });
        continue;
      }
      const exp = exportName === undefined ? undefined : target.spec.exports?.[exportName];
      if (!exp) {
        const known = Object.keys(target.spec.exports ?? {}).join(', ') || 'none';
        problems.push({ file, line: ref0.line, message: `${ref0.path}: ${match.name} has no export ${exportName ?? ''} (exports: ${known})` });
        continue;
      }
      if (parts.length === match.i + 2) resolved.push(exp.type);
    }
    // Type check where the value is just references: `x = a.b.c.l.out` or `x = [a.l.out, b.l.out]`.
    if (!argSpec || resolved.length === 0 || resolved.length !== attr.references.length || attr.calls.length > 0) return;
    const single = /^[A-Za-z_][\w.]*$/.test(attr.value.trim());
    const list = /^\[[\s\w.,]*\]$/.test(attr.value.trim());
    const inner = /^list\((.+)\)$/.exec(argSpec.type)?.[1];
    const expected = single ? argSpec.type : list ? inner : undefined;
    if (!expected) return;
    for (const t of resolved) {
      if (t !== expected) problems.push({ file, line: attr.line, message: `${attr.name} expects ${argSpec.type}, got a reference of type ${t}` });
    }
  };
  for (const { name: file, parsed } of files) {
    for (const block of parsed.blocks) {
      const spec = ref.components[block.name] ?? ref.config_blocks[block.name];
      if (spec) visitRefs(block, spec, file);
    }
  }
  return problems;
}

function checkBody(block: AlloyBlock, spec: BlockSpec, path: string, file: string, problems: Problem[]): void {
  const args = spec.arguments ?? {};
  const blocks = spec.blocks ?? {};
  for (const attr of block.attributes) {
    const a = args[attr.name];
    if (!a) {
      const known = Object.keys(args);
      const hint = suggest(attr.name, known);
      problems.push({ file, line: attr.line, message: `${path}: unknown argument ${attr.name}${hint ? ` (did you mean ${hint}?)` : ''}` });
    } else if (a.not_in_code) {
      problems.push({ file, line: attr.line, message: `${path}: argument ${attr.name} is documented but not accepted by the code` });
    }
  }
  for (const [name, a] of Object.entries(args)) {
    if (isRequired(a) && !block.attributes.some((x) => x.name === name)) {
      problems.push({ file, line: block.line, message: `${path}: missing required argument ${name}` });
    }
  }
  const counts = new Map<string, number>();
  for (const child of block.blocks) {
    counts.set(child.name, (counts.get(child.name) ?? 0) + 1);
    const b = blocks[child.name];
    if (!b) {
      const hint = suggest(child.name, Object.keys(blocks));
      problems.push({ file, line: child.line, message: `${path}: unknown block ${child.name}${hint ? ` (did you mean ${hint}?)` : ''}` });
      continue;
    }
    if (b.not_in_code) problems.push({ file, line: child.line, message: `${path}: block ${child.name} is documented but not accepted by the code` });
    if (child.label !== undefined) problems.push({ file, line: child.line, message: `${path}: block ${child.name} takes no label` });
    checkBody(child, b, `${path} > ${child.name}`, file, problems);
  }
  for (const [name, b] of Object.entries(blocks)) {
    const n = counts.get(name) ?? 0;
    if (n === 0 && isRequired(b)) problems.push({ file, line: block.line, message: `${path}: missing required block ${name}` });
    if (n > 1 && b.repeatable === false) problems.push({ file, line: block.line, message: `${path}: block ${name} may appear only once` });
  }
}

function suggest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  const limit = name.length <= 4 ? 1 : name.length <= 10 ? 2 : 3;
  return bestD <= limit ? best : undefined;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
