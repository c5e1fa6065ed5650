/**
 * demo-app/SCENARIOS.md tells a user where to look for each fault scenario. Every dashboard it names (bold)
 * is provisioned, every panel (italics) is on the dashboard named before it, every metric (code) is in the
 * metrics catalog with the labels it uses and is queried by that dashboard, and every TraceQL/LogQL/PromQL
 * snippet parses with the grammar Grafana uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dashboards } from '../../dashboards/src/index.js';
import {
  commonLabels,
  contractDatasources,
  flattenCatalog,
  panelsOf,
  queriesOf,
  resolveMetric,
  type CatalogEntry,
} from '../dashboards/checks.js';
import { promqlSelectors, syntaxErrors } from '../support/query-grammar.js';
import { repoRoot } from './demo-process.js';

type Json = any;

const scenariosDoc = readFileSync(join(repoRoot, 'demo-app/SCENARIOS.md'), 'utf8');
const catalog = flattenCatalog(JSON.parse(readFileSync(join(repoRoot, 'scripts/stack/metrics-catalog.json'), 'utf8')));
const builtDashboards: Json[] = Object.values(dashboards).map((build) => JSON.parse(JSON.stringify(build())));

/** Names ending like a Prometheus series: a code span that looks like one must be a real metric. */
const metricLike = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:total|bytes|seconds|bucket|count|sum|depth|active)(?:\{.*\})?$/;

/** Bold, italic and code spans in reading order (the table and fenced code blocks are skipped). */
function spans(paragraph: string): { kind: 'bold' | 'italic' | 'code'; text: string; before: string }[] {
  const out: { kind: 'bold' | 'italic' | 'code'; text: string; before: string }[] = [];
  const re = /\*\*([^*]+)\*\*|`([^`]+)`|\*([^*\s][^*]*)\*/g;
  for (const m of paragraph.matchAll(re)) {
    const before = paragraph.slice(Math.max(0, m.index! - 12), m.index!);
    if (m[1] !== undefined) out.push({ kind: 'bold', text: m[1], before });
    else if (m[2] !== undefined) out.push({ kind: 'code', text: m[2], before });
    else out.push({ kind: 'italic', text: m[3], before });
  }
  return out;
}

function paragraphs(doc: string): string[] {
  return doc
    .replace(/```[\s\S]*?```/g, '')
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p && !p.startsWith('|') && !p.startsWith('#'));
}

function metricsQueriedBy(dashboard: Json): Set<string> {
  const names = new Set<string>();
  for (const q of queriesOf(dashboard, contractDatasources).queries) {
    if (q.language !== 'promql') continue;
    for (const s of promqlSelectors(q.text)) {
      const base = s.metric && resolveMetric(catalog, s.metric);
      if (base) names.add(baseName(s.metric!));
    }
  }
  return names;
}

function baseName(metric: string): string {
  return catalog.has(metric) ? metric : metric.replace(/_(bucket|count|sum)$/, '');
}

function checkMetricSnippet(code: string, dashboard: Json): string[] {
  const problems: string[] = [];
  const errors = syntaxErrors('promql', code);
  if (errors.length) return [`\`${code}\` does not parse as PromQL near "${errors[0].near}"`];
  for (const s of promqlSelectors(code)) {
    const resolved = s.metric ? resolveMetric(catalog, s.metric) : undefined;
    if (!resolved) {
      problems.push(`\`${code}\`: metric ${s.metric} is not in scripts/stack/metrics-catalog.json`);
      continue;
    }
    const entry: CatalogEntry = resolved.entry;
    const allowed = new Set([...(entry.labels ?? []), ...commonLabels, ...(resolved.part === 'bucket' ? ['le'] : [])]);
    for (const label of s.labels.filter((l) => !allowed.has(l))) problems.push(`\`${code}\`: ${s.metric} has no label ${label}`);
    if (!metricsQueriedBy(dashboard).has(baseName(s.metric!))) {
      problems.push(`\`${code}\`: no panel of "${dashboard.title}" queries ${s.metric}`);
    }
  }
  return problems;
}

/** Everything SCENARIOS.md names that does not exist; empty when the doc matches the dashboards. */
export function checkScenariosDoc(doc: string, all: Json[]): string[] {
  const problems: string[] = [];
  const byTitle = new Map(all.map((d) => [d.title as string, d]));
  for (const paragraph of paragraphs(doc)) {
    let current: Json | undefined;
    for (const span of spans(paragraph)) {
      if (span.kind === 'bold') {
        current = byTitle.get(span.text);
        if (!current) problems.push(`**${span.text}** is not a dashboard (${[...byTitle.keys()].join(', ')})`);
      } else if (span.kind === 'italic') {
        if (!current) problems.push(`*${span.text}* names a panel before any dashboard`);
        else if (!panelsOf(current).some((p: Json) => p.title === span.text)) {
          problems.push(`*${span.text}* is not a panel of "${current.title}"`);
        }
      } else if (/TraceQL\s*$/.test(span.before) || /^\{ .* \}$/.test(span.text)) {
        const errors = syntaxErrors('traceql', span.text);
        if (errors.length) problems.push(`\`${span.text}\` does not parse as TraceQL near "${errors[0].near}"`);
      } else if (/LogQL\s*$/.test(span.before)) {
        const errors = syntaxErrors('logql', span.text);
        if (errors.length) problems.push(`\`${span.text}\` does not parse as LogQL near "${errors[0].near}"`);
      } else if (metricLike.test(span.text)) {
        if (!current) problems.push(`\`${span.text}\` names a metric before any dashboard`);
        else problems.push(...checkMetricSnippet(span.text, current));
      }
    }
  }
  return problems;
}

describe('demo-app/SCENARIOS.md', () => {
  it('names only dashboards, panels and metrics that exist, and queries that parse', () => {
    expect(checkScenariosDoc(scenariosDoc, builtDashboards)).toEqual([]);
  });

  it('points every scenario at something to look at', () => {
    const sections = scenariosDoc.split(/^## /m).slice(1);
    expect(sections.map((s) => s.split('\n')[0].trim())).toEqual(['latency-spike', 'error-burst', 'slow-dependency', 'log-flood', 'memory-growth']);
    for (const section of sections) {
      const kinds = spans(section).map((s) => s.kind);
      expect(kinds, section.split('\n')[0]).toEqual(expect.arrayContaining(['bold', 'italic']));
    }
  });

  describe('the check catches', () => {
    const fails = (from: string, to: string) => {
      expect(scenariosDoc).toContain(from);
      return checkScenariosDoc(scenariosDoc.replace(from, to), builtDashboards);
    };

    it('a panel that is not on the dashboard', () => {
      expect(fails('*Heap used*', '*Heap usage*')).toEqual(['*Heap usage* is not a panel of "Demo services"']);
    });

    it('a metric no panel of that dashboard queries', () => {
      expect(fails('In **Loki Logs**, *Recent logs* shows orders', 'In **Loki Logs**, `orders_queue_depth` shows orders')).toEqual([
        '`orders_queue_depth`: no panel of "Loki Logs" queries orders_queue_depth',
      ]);
    });

    it('a metric or label that does not exist, and a dashboard that does not', () => {
      expect(fails('`orders_fulfilled_total`', '`orders_shipped_total`')).toEqual([
        '`orders_shipped_total`: metric orders_shipped_total is not in scripts/stack/metrics-catalog.json',
      ]);
      expect(fails('shop_payments_total{outcome="error"}', 'shop_payments_total{result="error"}')).toEqual([
        '`shop_payments_total{result="error"}`: shop_payments_total has no label result',
      ]);
      expect(fails('**Tempo Tracing**, *Recent error traces*', '**Traces**, *Recent error traces*')).toEqual([
        expect.stringContaining('**Traces** is not a dashboard'),
        '*Recent error traces* names a panel before any dashboard',
        '*Service map* names a panel before any dashboard',
      ]);
    });

    it('a TraceQL query that does not parse', () => {
      expect(fails('duration > 500ms }', 'duration > 500ms')).toEqual([expect.stringContaining('does not parse as TraceQL')]);
    });
  });
});
