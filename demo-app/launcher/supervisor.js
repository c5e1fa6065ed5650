/**
 * Starts the demo's child processes, tracks their readiness (an IPC "ready" message), reports and restarts
 * a child that dies, and stops them all. A child that dies before it ever became ready is fatal: restarting
 * it would only hide the problem (a taken port, a syntax error).
 */
import { spawn } from 'node:child_process';
import { launcherLog } from './log.js';

const MAX_BACKOFF_MS = 15_000;
const STABLE_AFTER_MS = 60_000;

/**
 * @typedef {{ name: string, args: string[], env: NodeJS.ProcessEnv }} ChildSpec
 * @param {{ onReady?: (name: string) => void, onFatal: (name: string, reason: string) => void }} hooks
 */
export function createSupervisor({ onReady = () => {}, onFatal }) {
  /** @type {Map<string, { spec: ChildSpec, child?: import('node:child_process').ChildProcess, state: string, restarts: number, startedAt: number, everReady: boolean, timer?: NodeJS.Timeout }>} */
  const children = new Map();
  let stopping = false;

  function launch(entry) {
    // A child started while stopping (the load generator, started when the storefront turns ready) would outlive
    // stopAll, which only waits for the children running when it began.
    if (stopping) return;
    const { spec } = entry;
    const child = spawn(process.execPath, spec.args, { env: spec.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    Object.assign(entry, { child, state: 'starting', startedAt: Date.now() });
    launcherLog('info', 'started', { child: spec.name, pid: child.pid });

    child.on('message', (msg) => {
      if (msg?.type !== 'ready' || entry.child !== child || stopping) return;
      entry.state = 'ready';
      entry.everReady = true;
      onReady(spec.name);
    });
    child.on('error', (err) => launcherLog('error', 'could not start child', { child: spec.name, error: err.message }));
    child.on('exit', (code, signal) => {
      if (entry.child !== child) return;
      entry.state = 'exited';
      if (stopping) return;
      launcherLog('error', 'child exited unexpectedly', { child: spec.name, pid: child.pid, code: code ?? undefined, signal: signal ?? undefined });
      if (!entry.everReady) return onFatal(spec.name, `exited (code ${code ?? '-'}, signal ${signal ?? '-'}) before it was ready`);
      if (Date.now() - entry.startedAt > STABLE_AFTER_MS) entry.restarts = 0;
      const delay = Math.min(MAX_BACKOFF_MS, 1_000 * 2 ** entry.restarts);
      entry.restarts += 1;
      launcherLog('warn', 'restarting child', { child: spec.name, in_ms: delay, restarts: entry.restarts });
      entry.timer = setTimeout(() => launch(entry), delay);
    });
  }

  return {
    /** @param {ChildSpec} spec */
    start(spec) {
      const entry = { spec, state: 'starting', restarts: 0, startedAt: 0, everReady: false };
      children.set(spec.name, entry);
      launch(entry);
    },

    allReady() {
      return [...children.values()].every((c) => c.state === 'ready');
    },

    status() {
      return Object.fromEntries([...children].map(([name, c]) => [name, { state: c.state, pid: c.child?.pid, restarts: c.restarts }]));
    },

    /** Sends an IPC message to every running child (or one). */
    send(msg, name) {
      for (const [n, c] of children) {
        if ((name === undefined || n === name) && c.child?.connected) c.child.send(msg);
      }
    },

    /** SIGTERM to all, SIGKILL to whatever is left after graceMs. */
    async stopAll(graceMs = 5_000) {
      stopping = true;
      const running = [...children.values()].filter((c) => {
        clearTimeout(c.timer);
        return c.child && c.child.exitCode === null && c.child.signalCode === null;
      });
      await Promise.all(
        running.map(
          ({ child }) =>
            new Promise((resolve) => {
              child.once('exit', resolve);
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
            }),
        ),
      );
    },
  };
}
