/**
 * Runs the real demo (`node demo-app/run.js`) for a test: its own ports, telemetry to an in-test OTLP receiver
 * with short export intervals, its own process group so a stop reaches every child.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { unusedPort } from '../support/host-ports.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningDemo {
  storefront: string;
  control: string;
  proc: ChildProcess;
  /** Everything the launcher and its children printed so far (stdout and stderr). */
  output(): string;
  /** pid of each child, from the launcher's "started" lines (the latest one per child). */
  childPids(): Record<string, number>;
  /** Signals the whole process group and waits for the launcher to exit (SIGKILL after timeoutMs). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Short batch and export intervals so a test sees telemetry within a second. */
export function otelTestEnv(endpoint: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BLRP_SCHEDULE_DELAY: '200',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_METRIC_EXPORT_TIMEOUT: '500',
  };
}

export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_') && !k.startsWith('DEMO_')));
}

export async function startDemo(env: Record<string, string>, readyTimeoutMs = 30_000): Promise<RunningDemo> {
  const proc = spawn(process.execPath, ['demo-app/run.js'], {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...cleanEnv(),
      // Service ports chosen here, not 0: for 0 the launcher takes a port the OS picks, lets it go, and the child binds
      // it a moment later, when one of the tests' many outgoing connections may hold it. The control API binds 0 itself.
      DEMO_PORT: String(await unusedPort()),
      DEMO_ORDERS_PORT: String(await unusedPort()),
      DEMO_PAYMENTS_PORT: String(await unusedPort()),
      DEMO_INVENTORY_PORT: String(await unusedPort()),
      DEMO_CONTROL_PORT: '0',
      DEMO_LOAD_RPS: '0',
      ...env,
    },
  });
  let out = '';
  proc.stdout!.on('data', (c) => (out += c));
  proc.stderr!.on('data', (c) => (out += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const demo: RunningDemo = {
    storefront: '',
    control: '',
    proc,
    output: () => out,
    childPids() {
      const pids: Record<string, number> = {};
      for (const m of out.matchAll(/service=launcher msg=started child=(\S+) pid=(\d+)/g)) pids[m[1]] = Number(m[2]);
      return pids;
    },
    async stop(signal = 'SIGTERM', timeoutMs = 8_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      killGroup(proc, signal);
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      killGroup(proc, 'SIGKILL'); // anything the launcher left behind
      return result;
    },
  };

  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    const ready = /msg="demo ready" storefront=(\S+) control=(\S+)/.exec(out);
    if (ready) {
      demo.storefront = ready[1];
      demo.control = ready[2];
      break;
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await demo.stop('SIGKILL');
      throw new Error(`the demo did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const health = await fetch(`${demo.control}/healthz`);
  if (health.status !== 200) throw new Error(`healthz answered ${health.status} after "demo ready": ${await health.text()}`);
  return demo;
}

function killGroup(proc: ChildProcess, signal: NodeJS.Signals) {
  try {
    process.kill(-proc.pid!, signal);
  } catch {
    // the group is already gone
  }
}

export async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  // The control API takes JSON only, also for a POST without parameters.
  const json = body !== undefined || method === 'POST';
  const res = await fetch(url, {
    method,
    headers: { ...(json ? { 'content-type': 'application/json' } : {}), ...headers },
    body: json ? JSON.stringify(body ?? {}) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

/** The trace id in the storefront's `traceresponse` header. */
export function traceIdOf(headers: Headers): string {
  const value = headers.get('traceresponse') ?? '';
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(value);
  if (!m) throw new Error(`no traceresponse header (got "${value}")`);
  return m[1];
}

export const checkoutBody = { customerId: 'cust-test', items: [{ sku: 'SKU-1001', qty: 1 }, { sku: 'SKU-1003', qty: 2 }] };
