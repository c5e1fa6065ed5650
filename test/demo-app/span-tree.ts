import type { ReceivedSpan } from '../support/otlp-receiver.js';

const KIND = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];

/** One trace as an indented tree: "service  name  (kind, duration)", children in start order. */
export function renderSpanTree(spans: ReceivedSpan[]): string {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, ReceivedSpan[]>();
  for (const s of spans) {
    const parent = ids.has(s.parentSpanId) ? s.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string, depth: number) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      const status = s.statusCode === 2 ? ', ERROR' : '';
      lines.push(`${'  '.repeat(depth)}${String(s.resource['service.name'])}  ${s.name}  (${KIND[s.kind]}, ${s.durationMs.toFixed(1)} ms${status})`);
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 0);
  return lines.join('\n');
}
