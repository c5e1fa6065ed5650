/**
 * YAML output for every render: stable (keys in insertion order, no line folding), with a header comment,
 * port mappings and YAML-1.1 booleans quoted so no reader (compose, kubectl, PyYAML) can misread them.
 */
import { Document, isScalar, isSeq, Scalar, visit } from 'yaml';

/** Strings a YAML 1.1 reader would take for a boolean, null or base-60 number ("10001:10001"), or that start with ':'. */
const ambiguous =
  /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE|null|Null|NULL|~)$|^[-+]?\d[\d_]*(:[0-5]?\d)+(\.\d*)?$|^:/;

function document(value: unknown, headerLines: string[]): Document {
  const doc = new Document(value, { aliasDuplicateObjects: false });
  visit(doc, {
    Pair(_, pair) {
      // "127.0.0.1:3000:3000" is a base-60 number to YAML 1.1 readers when written plain.
      if (isScalar(pair.key) && pair.key.value === 'ports' && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isScalar(item) && typeof item.value === 'string') item.type = Scalar.QUOTE_DOUBLE;
      }
    },
    Scalar(_, node) {
      if (typeof node.value === 'string' && ambiguous.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  if (headerLines.length) doc.commentBefore = headerLines.map((l) => ` ${l}`).join('\n');
  return doc;
}

const options = { lineWidth: 0, indentSeq: true } as const;

export function toYaml(value: unknown, headerLines: string[] = []): string {
  return document(value, headerLines).toString(options);
}

/** A multi-document stream (`---` between documents); the header goes before the first. */
export function toYamlDocs(values: unknown[], headerLines: string[] = []): string {
  return values.map((v, i) => (i ? '---\n' : '') + document(v, i ? [] : headerLines).toString(options)).join('');
}
