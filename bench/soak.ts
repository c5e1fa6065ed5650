/**
 * Soak: the real demo (`node demo-app/run.js`, instrumented, exporting to an OTLP sink that accepts without decoding)
 * with its own load generator at SOAK_RPS (default 50) for SOAK_SECONDS (default 600). Reports each process's RSS
 * after a warm-up and at the end (from /proc, so Linux only), and the load generator's own count: every request it
 * sent was answered (ok, 4xx or 5xx), none hit a network error or a timeout, none was skipped, and it sent as many as
 * the rate asks for. Exit 1 when a request was lost. Binds 127.0.0.1 only.
 *
 *   npm run bench:soak                      # 10 minutes
 *   SOAK_SECONDS=60 npm run bench:soak      # a quick look
 */
import { readFileSync } from 'node:fs';
import { startOtlpReceiver } from '../test/support/otlp-receiver.js';
import { startDemo } from '../test/demo-app/demo-process.js';

const RPS = Number(process.env.SOAK_RPS ?? 50);
const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
/** RSS "start" is taken after this warm-up: module loading and JIT grow every process in its first seconds. */
const WARMUP_S = Math.min(30, Math.floor(SECONDS / 10));
/** The load generator prints its count every 30 s (demo-app/loadgen/loadgen.js). */
const STATS_EVERY_S = 30;

interface LoadStats { sent: number; ok: number; clientErrors: number; serverErrors: number; networkErrors: number; timeouts: number; resets: number; retried: number; skipped: number; inflight: number }

function rssKiB(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function lastStats(output: string): LoadStats | undefined {
  const lines = [...output.matchAll(/service=loadgen msg="load generator stats" (.*)/g)];
  const last = lines.at(-1);
  if (!last) return undefined;
  const fields = Object.fromEntries([...last[1].matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  return fields as unknown as LoadStats;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (kib: number | undefined) => (kib === undefined ? '-' : (kib / 1024).toFixed(1));

const sink = await startOtlpReceiver({ decode: false });
const demo = await startDemo({
  DEMO_LOAD_RPS: String(RPS),
  OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
  OTEL_METRIC_EXPORT_INTERVAL: '10000',
});
const launcherPid = demo.proc.pid!;
let exitCode = 0;
try {
  const loadStarted = Date.now();
  console.log(`soak: demo at ${demo.storefront}, load ${RPS} req/s for ${SECONDS} s (RSS start after ${WARMUP_S} s)`);
  await sleep(WARMUP_S * 1000);
  const pids = { launcher: launcherPid, ...demo.childPids() };
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssKiB(pid)]));
  const peak = { ...start };
  /** RSS each minute, to tell growth that levels off (heap sizing) from a leak. */
  const series: Record<string, (number | undefined)[]> = Object.fromEntries(Object.entries(start).map(([k, v]) => [k, [v]]));
  let nextSample = Date.now() + 60_000;
  // The last stats line lands on a multiple of 30 s after the load generator started; wait for the one at SECONDS.
  const statsDue = Math.ceil(SECONDS / STATS_EVERY_S) * STATS_EVERY_S;
  while (Date.now() - loadStarted < statsDue * 1000 + 2_000) {
    await sleep(5_000);
    for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name] ?? 0, rssKiB(pid) ?? 0);
    if (Date.now() >= nextSample) {
      nextSample += 60_000;
      for (const [name, pid] of Object.entries(pids)) series[name].push(rssKiB(pid));
    }
    if (demo.proc.exitCode !== null) throw new Error(`the demo exited during the soak:\n${demo.output().slice(-2000)}`);
  }
  const restarted = Object.entries(demo.childPids()).filter(([name, pid]) => pids[name as keyof typeof pids] !== pid).map(([n]) => n);
  const end = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssKiB(pid)]));
  const stats = lastStats(demo.output());
  const elapsedS = (Date.now() - loadStarted) / 1000;

  console.log(`\nRSS (MiB) after ${WARMUP_S} s and at ${Math.round(elapsedS)} s:`);
  console.log(`${'process'.padEnd(12)} ${'start'.padStart(8)} ${'end'.padStart(8)} ${'peak'.padStart(8)} ${'change'.padStart(8)}`);
  for (const name of Object.keys(pids)) {
    const s = start[name];
    const e = end[name];
    const change = s && e ? `${(((e - s) / s) * 100).toFixed(1)}%` : '-';
    console.log(`${name.padEnd(12)} ${mib(s).padStart(8)} ${mib(e).padStart(8)} ${mib(peak[name]).padStart(8)} ${change.padStart(8)}`);
  }
  console.log('\nRSS (MiB) each minute from the start sample:');
  for (const [name, values] of Object.entries(series)) console.log(`${name.padEnd(12)} ${values.map((v) => mib(v).padStart(6)).join('')}`);
  if (restarted.length) console.log(`restarted during the soak: ${restarted.join(', ')}`);
  if (!stats) throw new Error('the load generator printed no stats line');
  const answered = stats.ok + stats.clientErrors + stats.serverErrors;
  const unaccounted = stats.sent - answered - stats.networkErrors - stats.inflight;
  const lost = stats.networkErrors + stats.skipped + unaccounted;
  // The count at the stats line (t = statsDue s) against what the rate asks for by then; a tick (20 ms) of slack.
  const expected = statsDue * RPS;
  console.log(`\nload generator at ${statsDue} s: sent=${stats.sent} (rate asks ${expected}) ok=${stats.ok} 4xx=${stats.clientErrors} ` +
    `5xx=${stats.serverErrors} no answer=${stats.networkErrors} (timeouts ${stats.timeouts}, resets ${stats.resets}; ${stats.retried} resent after a keep-alive reset) skipped=${stats.skipped} in flight=${stats.inflight}`);
  console.log(`lost requests: ${lost} (unaccounted ${unaccounted}); OTLP exports received by the sink: ${sink.requests.length}`);
  if (lost > 0 || stats.sent < expected - RPS || restarted.length) exitCode = 1;
} finally {
  await demo.stop();
  await sink.close();
}
process.exit(exitCode);
