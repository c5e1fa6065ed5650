/**
 * Every error a user can hit says what went wrong, why, and what to do next.
 * The exit code is part of the contract (README "Exit codes"); scripts rely on it.
 */
export const ExitCode = {
  ok: 0,
  /** The command ran but the stack is not (all) healthy, or a check failed. */
  failure: 1,
  /** Bad input: unknown command, flag, profile, runtime, or an unwritable path. */
  usage: 2,
  /** A precondition outside our control: Docker unreachable, port taken, tool missing. */
  preflight: 3,
  /** A component did not become ready in time, or exited. */
  notReady: 4,
  /** Interrupted (Ctrl-C); everything started so far was cleaned up or can be removed with `down`. */
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The closed set of machine-readable error codes (the `code` of `--json` errors; README "Error codes").
 * Code that reacts to an error checks the code with `isUserError(e, 'STATE_INVALID')`, never the message text.
 */
export const ErrorCodes = [
  'ERROR',
  'INTERNAL',
  'USAGE',
  'INTERRUPTED',
  'STATE_INVALID',
  'STATE_UNWRITABLE',
  'STATE_LOST',
  'NO_CREDENTIALS',
  'NOT_RUNNING',
  'RUNTIME_UNAVAILABLE',
  'DOCKER_UNREACHABLE',
  'COMPOSE_MISSING',
  'COMPOSE_FAILED',
  'KIND_MISSING',
  'KUBECTL_MISSING',
  'DOCKER_MISSING',
  'KIND_PORTS_CHANGED',
  'PROFILE_SWITCH_REFUSED',
  'KIND_KUBECONFIG',
  'KIND_CREATE_FAILED',
  'KIND_LOAD_FAILED',
  'KIND_UNREACHABLE',
  'KIND_DELETE_FAILED',
  'APPLY_FAILED',
  'DOWN_FAILED',
  'PORT_IN_USE',
  'PROJECT_TAKEN',
  'MEMORY_LOW',
  'CPU_LOW',
  'DISK_LOW',
  'DISK_FULL',
  'STACK_LOCKED',
  'RENDER_WOULD_OVERWRITE',
  'DEMO_TOKEN_REFUSED',
  'CONFIG_MISSING',
  'PREFLIGHT_FAILED',
  'IMAGE_PULL_FAILED',
  'IMAGE_BUILD_FAILED',
  'COMPONENT_FAILED',
  'COMPONENT_TIMEOUT',
  'NOT_READY',
  'LOGS_FAILED',
  'PORT_FORWARD_FAILED',
  'DEMO_UNREACHABLE',
  'DEMO_BAD_RESPONSE',
  'UNKNOWN_SCENARIO',
  'BAD_SCENARIO_PARAMETER',
] as const;
export type ErrorCode = (typeof ErrorCodes)[number];

export interface UserErrorInit {
  /** What went wrong, in one line. */
  what: string;
  /** Why it happened, if we know. */
  why?: string;
  /** The next thing to try. */
  next?: string;
  exitCode?: ExitCodeValue;
  /** Stable machine-readable code for --json consumers, e.g. "PORT_IN_USE". */
  code?: ErrorCode;
  /** Extra lines (for example a component's log tail). */
  details?: string[];
}

export class UserError extends Error {
  readonly what: string;
  readonly why?: string;
  readonly next?: string;
  readonly exitCode: ExitCodeValue;
  readonly code: ErrorCode;
  readonly details: string[];
  constructor(init: UserErrorInit) {
    super(init.what);
    this.name = 'UserError';
    this.what = init.what;
    this.why = init.why;
    this.next = init.next;
    this.exitCode = init.exitCode ?? ExitCode.failure;
    this.code = init.code ?? 'ERROR';
    this.details = init.details ?? [];
  }

  toJSON() {
    return { code: this.code, what: this.what, why: this.why, next: this.next, exitCode: this.exitCode, details: this.details };
  }
}

export function usageError(what: string, next?: string): UserError {
  return new UserError({ what, next, exitCode: ExitCode.usage, code: 'USAGE' });
}

/** Whether `e` is a UserError, and (given a code) one with that code. */
export function isUserError(e: unknown, code?: ErrorCode): e is UserError {
  return e instanceof UserError && (code === undefined || e.code === code);
}
