/**
 * One interface for both runtimes (docker compose, kind). Commands call these; nothing else knows
 * how a runtime creates, inspects or removes the stack.
 */
import type { ComponentName, RuntimeName, Stack } from '../stack/model.js';
import type { Credentials } from '../lib/state.js';
import type { Exec } from '../lib/exec.js';
import type { Output } from '../lib/output.js';

export interface PreflightCheck {
  id: string;
  title: string;
  ok: boolean;
  /** What was found ("Docker Engine 20.10.24 via /var/run/docker.sock (plain dockerd)"). */
  detail: string;
  /** How to fix it when not ok. */
  fix?: string;
  /** A failed check with severity 'warn' does not stop `up`. */
  severity: 'error' | 'warn';
}

export interface ComponentStatus {
  name: ComponentName;
  state: 'running' | 'exited' | 'completed' | 'starting' | 'restarting' | 'created' | 'missing';
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  url?: string;
  detail?: string;
  /** For exited containers. */
  exitCode?: number;
  /** Why it stopped or keeps restarting (runtimes/exits.ts): out of memory, killed, crashed, restart loop. */
  exit?: import('./exits.js').ExitKind;
}

/** Healthy for the exit code of `status`: running and healthy (or no health signal), or a one-shot job that completed. */
export const isHealthy = (s: ComponentStatus) =>
  s.state === 'completed' || (s.state === 'running' && (s.health === 'healthy' || s.health === 'none'));

export interface ReadyTimes {
  /** Seconds from the start of `up` (containers being created) until ready, per component. */
  [name: string]: number;
}

export interface UpContext {
  credentials: Credentials;
  /** Aborted on Ctrl-C: stop waiting, remove what was started (data volumes stay), throw an `interrupted` UserError. */
  signal: AbortSignal;
  /** Progress goes here (one line per image and per component). */
  out: Output;
  /** Every component must be ready within this many ms of the start (default 180 s). */
  readyTimeoutMs?: number;
}

export interface DownResult {
  containers: number;
  networks: number;
  /** Volumes removed (purge) or kept. */
  volumes: number;
  volumesKept: number;
}

export interface LogOptions {
  follow: boolean;
  tail: number;
  signal: AbortSignal;
  /** Receives each line, prefixed with the component name when several are shown. */
  write(line: string): void;
}

/** What a runtime factory needs; tests inject the shell and the Docker client. */
export interface RuntimeDeps {
  exec: Exec;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Injected Docker client (tests). Default: dockerode for the resolved endpoint. */
  docker?: import('../lib/docker.js').DockerApi;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Names everything the runtime creates (compose project, kind cluster). */
  readonly project: string;
  /**
   * `up` on a healthy stack runs `up` again instead of stopping at "already running": the runtime's apply is
   * idempotent and brings a newer version's manifests and configs in (kind's server-side apply).
   */
  readonly reappliesWhenRunning?: boolean;
  /** Every check `up` needs before it creates anything; `doctor` prints them all. */
  preflight(stack: Stack): Promise<PreflightCheck[]>;
  /** Whether anything made by us exists (running or stopped). */
  exists(): Promise<boolean>;
  /**
   * The data an earlier `up` left (volumes, volume claims), one name each; empty when there is none. It holds the
   * credentials it was first given (Grafana keeps its first admin password), so `up` must not pair it with new ones.
   */
  keptData?(): Promise<string[]>;
  /** Creates and starts everything, then waits for readiness; throws UserError naming the failing component. */
  up(stack: Stack, ctx: UpContext): Promise<ReadyTimes>;
  /** One entry per component of the stack (state 'missing' when absent); empty when nothing exists. */
  status(stack: Stack): Promise<ComponentStatus[]>;
  logs(component: ComponentName | undefined, opts: LogOptions): Promise<void>;
  /** Free disk where the engine keeps volumes against what the stack's data needs (runtimes on a Docker engine). */
  disk?(stack: Stack): Promise<import('./disk.js').DiskReading>;
  /** Removes what `up` created; keeps data unless purge. Works when the stack is broken or absent. */
  down(opts: { purge: boolean }): Promise<DownResult>;
}
