/**
 * The one place that writes to the terminal. Human progress on a TTY, plain lines in CI or when piped,
 * and exactly one JSON document on stdout with --json (progress then goes nowhere; errors go in the document).
 */
import { UserError } from './errors.js';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface Step {
  /** Marks the step done; `detail` is appended (for example "ready in 2.1s"). */
  ok(detail?: string): void;
  fail(detail?: string): void;
  /** Updates the running line (TTY) or prints a line (plain). */
  update(detail: string): void;
}

export interface Output {
  readonly mode: OutputMode;
  info(line: string): void;
  warn(line: string): void;
  step(title: string): Step;
  /**
   * Several steps running at once (parallel waits), one line each. On a TTY the lines are redrawn in place with
   * the elapsed time; in plain mode a line is printed when a step's detail changes and when it ends.
   * Print nothing else until every step of the group has ended.
   */
  group(titles: string[]): Step[];
  table(headers: string[], rows: string[][]): void;
  /** Sets (merges) the result document printed by `finish` in JSON mode. */
  result(data: Record<string, unknown>): void;
  error(err: unknown): void;
  /** Prints the JSON document (JSON mode). Call once, at the end. */
  finish(exitCode: number): void;
}

export interface Sink {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processSink: Sink = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  get isTTY() {
    return Boolean(process.stdout.isTTY) && !process.env.CI;
  },
};

export function detectMode(json: boolean, sink: Sink = processSink): OutputMode {
  if (json) return 'json';
  return sink.isTTY ? 'tty' : 'plain';
}

/**
 * Text from containers, backends and files is printed as text: terminal escape sequences (CSI, OSC such as
 * hyperlinks or title changes, 8-bit C1) and other control characters are removed; tabs and newlines stay.
 */
export function stripControls(text: string): string {
  return text
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g, '')
    .replace(/(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?/g, '')
    .replace(/\x1b[ -/]*[0-~]?/g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, '');
}

const color = (code: number, tty: boolean) => (s: string) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);

export function createOutput(opts: { json?: boolean; sink?: Sink } = {}): Output {
  const sink = opts.sink ?? processSink;
  const mode = detectMode(Boolean(opts.json), sink);
  const tty = mode === 'tty';
  const green = color(32, tty);
  const red = color(31, tty);
  const yellow = color(33, tty);
  const dim = color(2, tty);
  const doc: Record<string, unknown> = {};
  const warnings: string[] = [];
  let errorDoc: unknown;

  const line = (text: string) => {
    if (mode !== 'json') sink.out(stripControls(text) + '\n');
  };

  return {
    mode,
    info: line,
    warn(text) {
      if (mode === 'json') warnings.push(text);
      else sink.err(yellow('warning: ') + stripControls(text) + '\n');
    },
    step(rawTitle) {
      const title = stripControls(rawTitle);
      const started = Date.now();
      let done = false;
      if (tty) sink.out(`${dim('…')} ${title}`);
      else line(`- ${title} ...`);
      const end = (mark: string, detail?: string) => {
        if (done) return;
        done = true;
        const text = `${mark} ${title}${detail ? dim(` (${stripControls(detail)})`) : ''}`;
        if (tty) sink.out(`\r\x1b[2K${text}\n`);
        else line(text);
      };
      return {
        ok: (detail) => end(green('✓'), detail ?? `${((Date.now() - started) / 1000).toFixed(1)}s`),
        fail: (detail) => end(red('✗'), detail),
        update(detail) {
          if (done) return;
          if (tty) sink.out(`\r\x1b[2K${dim('…')} ${title} ${dim(stripControls(detail))}`);
          else line(`  ${title}: ${detail}`);
        },
      };
    },
    group(rawTitles) {
      const titles = rawTitles.map(stripControls);
      const started = Date.now();
      const width = Math.max(0, ...titles.map((t) => t.length));
      const state = titles.map(() => ({ done: false, text: '' }));
      const elapsed = () => `${Math.floor((Date.now() - started) / 1000)}s`;
      // Lines must not wrap, or redrawing in place goes astray.
      const fit = (text: string, used: number) => {
        const max = Math.max(20, (process.stdout.columns || 120) - 1 - used);
        return text.length > max ? text.slice(0, max - 1) + '…' : text;
      };
      const render = (i: number) => {
        const s = state[i];
        if (s.done) return s.text;
        return `${dim('…')} ${titles[i].padEnd(width)}  ${dim(fit(`${s.text}${s.text ? ' ' : ''}${elapsed()}`, width + 4))}`;
      };
      const redraw = (i: number) => {
        const up = titles.length - i;
        sink.out(`\x1b[${up}A\r\x1b[2K${render(i)}\x1b[${up}B\r`);
      };
      let timer: NodeJS.Timeout | undefined;
      if (tty && titles.length) {
        for (let i = 0; i < titles.length; i++) sink.out(render(i) + '\n');
        timer = setInterval(() => state.forEach((s, i) => !s.done && redraw(i)), 1000);
        timer.unref();
      }
      const finish = (i: number, text: string) => {
        if (state[i].done) return;
        state[i] = { done: true, text };
        if (tty) redraw(i);
        else line(text);
        if (timer && state.every((s) => s.done)) clearInterval(timer);
      };
      return titles.map((title, i) => ({
        ok: (raw) => {
          const detail = raw === undefined ? undefined : stripControls(raw);
          finish(i, `${green('✓')} ${title.padEnd(width)}  ${dim(tty ? fit(detail ?? elapsed(), width + 4) : detail ?? elapsed())}`.trimEnd());
        },
        fail: (raw) => {
          const detail = raw === undefined ? undefined : stripControls(raw);
          finish(i, `${red('✗')} ${title.padEnd(width)}  ${tty ? fit(detail ?? '', width + 4) : detail ?? ''}`.trimEnd());
        },
        update(rawDetail) {
          const detail = stripControls(rawDetail);
          if (state[i].done || state[i].text === detail) return;
          state[i].text = detail;
          if (tty) redraw(i);
          else line(`  ${title}: ${detail}`);
        },
      }));
    },
    table(headers, rawRows) {
      if (mode === 'json') return;
      const rows = rawRows.map((r) => r.map((c) => stripControls(c ?? '')));
      const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
      const fmt = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd();
      line(fmt(headers));
      for (const r of rows) line(fmt(r));
    },
    result(data) {
      Object.assign(doc, data);
    },
    error(err) {
      if (err instanceof UserError) {
        errorDoc = err.toJSON();
        if (mode === 'json') return;
        sink.err(`${red('error:')} ${stripControls(err.what)}\n`);
        if (err.why) sink.err(`  why: ${stripControls(err.why)}\n`);
        for (const d of err.details) sink.err(`  ${stripControls(d)}\n`);
        if (err.next) sink.err(`  next: ${stripControls(err.next)}\n`);
        return;
      }
      const e = err as Error;
      errorDoc = { code: 'INTERNAL', what: e?.message ?? String(err) };
      if (mode === 'json') return;
      sink.err(`${red('error:')} ${stripControls(e?.message ?? String(err))}\n`);
      if (process.env.MOP_DEBUG && e?.stack) sink.err(e.stack + '\n');
      else sink.err('  next: this is a bug in mop-sandbox; re-run with MOP_DEBUG=1 and report the stack trace.\n');
    },
    finish(exitCode) {
      if (mode !== 'json') return;
      const out: Record<string, unknown> = { ok: exitCode === 0, exitCode, ...doc };
      if (warnings.length) out.warnings = warnings;
      if (errorDoc) out.error = errorDoc;
      sink.out(JSON.stringify(out, null, 2) + '\n');
    },
  };
}
