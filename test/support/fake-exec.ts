/** A fake Exec for unit tests (test code only: it does not ship in dist/). */
import { CommandFailed, formatCommand, type Exec, type RunResult } from '../../scripts/lib/exec.js';

export interface RecordedCall {
  file: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * A fake Exec for unit tests: `responses` maps a command line prefix ("docker info") to a result.
 * Unmatched commands fail with exit 127, like a missing program.
 */
export function recordingExec(
  responses: Record<string, Partial<RunResult> | ((args: string[]) => Partial<RunResult>)> = {},
  installed: string[] = [],
): Exec & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  return {
    calls,
    async run(file, args, opts = {}) {
      calls.push({ file, args, env: opts.env });
      const line = [file, ...args].join(' ');
      const key = Object.keys(responses)
        .filter((k) => line === k || line.startsWith(k + ' '))
        .sort((a, b) => b.length - a.length)[0];
      const spec = key === undefined ? { exitCode: 127, stderr: `${file}: command not found` } : responses[key];
      const r = typeof spec === 'function' ? spec(args) : spec;
      const result = { stdout: r.stdout ?? '', stderr: r.stderr ?? '', exitCode: r.exitCode ?? 0 };
      if (opts.onStdout && result.stdout) opts.onStdout(result.stdout);
      if (result.exitCode !== 0 && !opts.allowFail) {
        throw new CommandFailed(formatCommand(file, args), result.exitCode, result.stderr, result.stdout);
      }
      return result;
    },
    async which(bin) {
      return installed.includes(bin) ? `/usr/bin/${bin}` : null;
    },
  };
}
