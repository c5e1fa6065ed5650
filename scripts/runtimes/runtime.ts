/**
 * One interface for both runtimes (docker compose, kind). Commands call these; nothing else knows
 * how a runtime creates, inspects or removes the stack.
 */
import type { ComponentName, RuntimeName, Stack } from '../stack/model.js';
import type { Credentials } from '../lib/state.js';

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
  state: 'running' | 'exited' | 'completed' | 'starting' | 'missing';
  health: 'healthy' | 'unhealthy' | 'starting' | 'none';
  url?: string;
  detail?: string;
}

export interface ReadyTimes {
  /** Seconds from start of waiting until ready, per component. */
  [name: string]: number;
}

export interface UpContext {
  credentials: Credentials;
  signal: AbortSignal;
  onProgress?: (component: ComponentName | 'images' | 'stack', message: string) => void;
  /** Per-component readiness timeout, ms. */
  readyTimeoutMs?: number;
}

export interface Runtime {
  readonly name: RuntimeName;
  preflight(stack: Stack): Promise<PreflightCheck[]>;
  /** Whether a stack made by us exists (running or stopped). */
  exists(): Promise<boolean>;
  /** Creates and starts everything, then waits for readiness; throws UserError naming the failing component. */
  up(stack: Stack, ctx: UpContext): Promise<ReadyTimes>;
  status(stack: Stack): Promise<ComponentStatus[]>;
  logs(component: ComponentName | undefined, opts: { follow: boolean; tail: number; signal: AbortSignal }): Promise<void>;
  /** Removes what `up` created; keeps data unless purge. Works when the stack is broken or absent. */
  down(opts: { purge: boolean }): Promise<void>;
}
