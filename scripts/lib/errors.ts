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

export interface UserErrorInit {
  /** What went wrong, in one line. */
  what: string;
  /** Why it happened, if we know. */
  why?: string;
  /** The next thing to try. */
  next?: string;
  exitCode?: ExitCodeValue;
  /** Stable machine-readable code for --json consumers, e.g. "PORT_IN_USE". */
  code?: string;
  /** Extra lines (for example a component's log tail). */
  details?: string[];
}

export class UserError extends Error {
  readonly what: string;
  readonly why?: string;
  readonly next?: string;
  readonly exitCode: ExitCodeValue;
  readonly code: string;
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
