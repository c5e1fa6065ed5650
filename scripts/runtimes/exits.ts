/**
 * What a stopped or restarting container means, in words a user can act on: killed for memory (with the component's
 * limit and how to raise it), killed by a signal, crashed, in a restart loop, or still starting. Runtime-neutral:
 * the runtime supplies the facts (exit code, OOM flag, restarts, how long it has run).
 */
import type { Component } from '../stack/model.js';

export interface ExitFacts {
  /** The last exit code; unknown while the container runs again between two crashes. */
  exitCode?: number;
  /** The kernel killed it for exceeding its memory limit (Docker: State.OOMKilled; Kubernetes: reason OOMKilled). */
  oomKilled: boolean;
  /** Restarts since the stack (or this `up`) started it. */
  restarts: number;
}

export type ExitKind = 'oom' | 'killed' | 'crashed' | 'restart-loop';

/** Twice the limit, in the unit it was written in ("1Gi" -> "2Gi", "512Mi" -> "1Gi"). */
export function doubled(limit: string): string {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/.exec(limit);
  if (!m) return limit;
  const n = Number(m[1]) * 2;
  if (m[2] === 'Mi' && n >= 1024 && n % 1024 === 0) return `${n / 1024}Gi`;
  return `${n}${m[2] ?? ''}`;
}

export const memorySetting = (c: Pick<Component, 'name'>) => `MOP_MEMORY_${c.name.toUpperCase()}`;

/** How to give a component more memory: the setting, with twice its current limit. */
export function raiseMemory(c: Pick<Component, 'name' | 'resources'>): string {
  const more = doubled(c.resources.limits.memory);
  return `raise its limit: ${memorySetting(c)}=${more} (or "memory": {"${c.name}": "${more}"} in settings.json), then \`mop-sandbox up\``;
}

export function classifyExit(c: Pick<Component, 'name' | 'resources'>, f: ExitFacts): { kind: ExitKind; detail: string } {
  const limit = c.resources.limits.memory;
  if (f.oomKilled) {
    return { kind: 'oom', detail: `killed for running out of memory (its limit is ${limit}); ${raiseMemory(c)}` };
  }
  if (f.restarts >= 2) {
    const last = f.exitCode === undefined ? ', running again for now' : `, last exit code ${f.exitCode}`;
    return { kind: 'restart-loop', detail: `restart loop: restarted ${f.restarts} times${last}; see \`mop-sandbox logs ${c.name}\`` };
  }
  if (f.exitCode === 137) {
    return { kind: 'killed', detail: `killed (SIGKILL, exit code 137), not for its memory limit: something stopped it (\`docker kill\`, the host's OOM killer); \`mop-sandbox up\` starts it again` };
  }
  return { kind: 'crashed', detail: `crashed (exit code ${f.exitCode}); see \`mop-sandbox logs ${c.name}\`, then \`mop-sandbox up\`` };
}
