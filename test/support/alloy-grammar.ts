/**
 * A parser for Alloy configuration files (npm has none): our lezer grammar in alloy.grammar, built at
 * run time with @lezer/generator, plus a walker that turns the syntax tree into blocks, attributes,
 * component references and sys.env() calls for the checks in test/configs/alloy.test.ts.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildParser } from '@lezer/generator';
import { ContextTracker, ExternalTokenizer, type LRParser } from '@lezer/lr';
import type { SyntaxNode, Tree } from '@lezer/common';

const grammarFile = fileURLToPath(new URL('./alloy.grammar', import.meta.url));

/** Tokens after which a newline ends the statement (Go-style terminator insertion). */
const endsStatement = ['Identifier', 'String', 'RawString', 'Number', 'Boolean', 'Null', 'CloseParen', 'CloseBracket', 'CloseBrace'];
/** Skipped tokens leave the decision to the token before them (`a = 1 // note` still ends at the newline). */
const skipped = ['Space', 'LineComment', 'BlockComment', 'newline'];

let cached: LRParser | undefined;

export function alloyParser(): LRParser {
  if (cached) return cached;
  let terminatorTerm = -1;
  let newlineTerm = -1;
  const newlines = new ExternalTokenizer(
    (input, stack) => {
      if (input.next !== 10 /* \n */) return;
      input.acceptToken(stack.context ? terminatorTerm : newlineTerm, 1);
    },
    { contextual: true },
  );
  cached = buildParser(readFileSync(grammarFile, 'utf8'), {
    fileName: grammarFile,
    externalTokenizer: (name, terms) => {
      if (name !== 'newlines') throw new Error(`unknown external tokenizer ${name}`);
      terminatorTerm = terms.Terminator;
      newlineTerm = terms.newline;
      return newlines;
    },
    contextTracker: (terms) => {
      const ends = new Set<number>();
      for (const name of endsStatement) {
        if (terms[name] === undefined) throw new Error(`alloy.grammar has no term ${name}`);
        ends.add(terms[name]);
      }
      // Specialized keywords (true/false/null) may get one term per value; collect them all by name.
      for (const [name, id] of Object.entries(terms)) if (/^(Boolean|Null)(_\d+)?$/.test(name)) ends.add(id);
      const keep = new Set<number>();
      for (const name of skipped) {
        if (terms[name] === undefined) throw new Error(`alloy.grammar has no term ${name}`);
        keep.add(terms[name]);
      }
      return new ContextTracker<boolean>({
        start: false,
        shift: (context, term) => (keep.has(term) ? context : ends.has(term)),
        hash: (context) => (context ? 1 : 0),
        strict: false,
      });
    },
  });
  return cached;
}

export interface SyntaxError {
  from: number;
  to: number;
  line: number;
  column: number;
  message: string;
}

export interface AlloyCall {
  /** Dotted function name, e.g. `sys.env`. */
  name: string;
  /** String-literal arguments (other arguments are left out). */
  stringArgs: string[];
  line: number;
}

export interface AlloyAttribute {
  name: string;
  line: number;
  /** Source text of the value. */
  value: string;
  /** Dotted identifier chains used as values, e.g. `otelcol.processor.batch.default.input`. */
  references: { path: string; line: number }[];
  calls: AlloyCall[];
  /** Every string literal in the value, unquoted. */
  strings: string[];
}

export interface AlloyBlock {
  /** Dotted block name: a component (`prometheus.scrape`), a config block (`logging`) or a nested block (`endpoint`, `stage.json`). */
  name: string;
  label?: string;
  line: number;
  attributes: AlloyAttribute[];
  blocks: AlloyBlock[];
}

export interface AlloyFile {
  /** Top-level blocks. */
  blocks: AlloyBlock[];
  /** Top-level attributes (not allowed by Alloy; reported by the checks). */
  attributes: AlloyAttribute[];
  /** Parse errors (lezer error nodes) and problems the grammar cannot express (labels, duplicate attributes). */
  errors: SyntaxError[];
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lastNl = i;
    }
  }
  return { line, column: offset - lastNl };
}

/** The value of an Alloy string literal ("..." with Go-like escapes, or `raw`). */
export function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return literal.slice(1, -1).replace(/\\(.)/g, '$1');
  }
}

const identifierRe = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function syntaxErrors(tree: Tree, text: string): SyntaxError[] {
  const errors: SyntaxError[] = [];
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) {
        const { line, column } = position(text, n.from);
        const near = text.slice(n.from, Math.max(n.to, n.from + 1)).split('\n')[0];
        const message = near
          ? `syntax error at ${JSON.stringify(near)}`
          : n.from >= text.length
            ? 'unexpected end of file (missing "}"?)'
            : 'unexpected line break (a multi-line list or object needs a comma after every element, and a block\'s "{" goes on the line of its name)';
        errors.push({ from: n.from, to: n.to, line, column, message });
      }
    },
  });
  return errors;
}

/** Parses an Alloy file and returns its blocks, attributes and errors. */
export function parseAlloy(text: string): AlloyFile {
  const tree = alloyParser().parse(text);
  const errors = syntaxErrors(tree, text);
  const src = (n: SyntaxNode) => text.slice(n.from, n.to);
  const lineOf = (n: SyntaxNode) => position(text, n.from).line;
  const addError = (n: SyntaxNode, message: string) => {
    const { line, column } = position(text, n.from);
    errors.push({ from: n.from, to: n.to, line, column, message });
  };

  const isSkipped = (n: SyntaxNode) => n.name === 'Space' || n.name === 'LineComment' || n.name === 'BlockComment';
  const firstChild = (n: SyntaxNode) => {
    let c = n.firstChild;
    while (c && isSkipped(c)) c = c.nextSibling;
    return c;
  };

  /** `a.b.c` for a chain of identifiers, else undefined. */
  function chain(n: SyntaxNode): string | undefined {
    if (n.name === 'Identifier') return src(n);
    if (n.name === 'MemberExpression') {
      const object = firstChild(n);
      const prop = n.getChild('PropertyName');
      const head = object ? chain(object) : undefined;
      return head !== undefined && prop ? `${head}.${src(prop)}` : undefined;
    }
    return undefined;
  }

  function attribute(node: SyntaxNode): AlloyAttribute {
    const nameNode = node.getChild('AttributeName')!;
    // The value is the first node after "=" that is not whitespace or a comment.
    let valueNode = nameNode.nextSibling;
    while (valueNode && (isSkipped(valueNode) || valueNode.name === '=')) valueNode = valueNode.nextSibling;
    const attr: AlloyAttribute = {
      name: src(nameNode),
      line: lineOf(node),
      value: valueNode ? src(valueNode) : '',
      references: [],
      calls: [],
      strings: [],
    };
    if (!valueNode) return attr;
    const visit = (n: SyntaxNode) => {
      if (n.name === 'String' || n.name === 'RawString') {
        if (n.parent?.name !== 'FieldName') attr.strings.push(unquote(src(n)));
        return;
      }
      if (isSkipped(n)) return;
      if (n.name === 'CallExpression') {
        const callee = firstChild(n)!;
        const args = n.getChild('ArgList');
        attr.calls.push({
          name: chain(callee) ?? src(callee),
          stringArgs: args ? args.getChildren('String').map((s) => unquote(src(s))) : [],
          line: lineOf(n),
        });
        if (chain(callee) === undefined) visit(callee);
        if (args) for (let c = args.firstChild; c; c = c.nextSibling) visit(c);
        return;
      }
      if (n.name === 'MemberExpression' || n.name === 'Identifier') {
        const path = chain(n);
        if (path !== undefined) {
          attr.references.push({ path, line: lineOf(n) });
          return;
        }
      }
      if (n.name === 'FieldName') return;
      for (let c = n.firstChild; c; c = c.nextSibling) visit(c);
    };
    visit(valueNode);
    return attr;
  }

  function block(node: SyntaxNode): AlloyBlock {
    const nameNode = node.getChild('BlockName')!;
    const labelNode = node.getChild('Label');
    const b: AlloyBlock = { name: src(nameNode).replace(/\s+/g, ''), line: lineOf(node), attributes: [], blocks: [] };
    if (labelNode) {
      b.label = unquote(src(labelNode));
      if (!src(labelNode).startsWith('"') || !identifierRe.test(b.label)) {
        addError(labelNode, `block label ${src(labelNode)} must be a double-quoted identifier (letters, digits, _)`);
      }
    }
    const bodyNode = node.getChild('BlockBody');
    if (bodyNode) collect(bodyNode, b.attributes, b.blocks);
    return b;
  }

  function collect(parent: SyntaxNode, attributes: AlloyAttribute[], blocks: AlloyBlock[]) {
    const seen = new Set<string>();
    for (let c = parent.firstChild; c; c = c.nextSibling) {
      if (c.name === 'Attribute') {
        const a = attribute(c);
        if (seen.has(a.name)) addError(c, `attribute ${a.name} is set twice`);
        seen.add(a.name);
        attributes.push(a);
      } else if (c.name === 'Block') {
        blocks.push(block(c));
      }
    }
  }

  const file: AlloyFile = { blocks: [], attributes: [], errors };
  collect(tree.topNode, file.attributes, file.blocks);
  errors.sort((a, b) => a.from - b.from);
  return file;
}
