/**
 * Alloy's UI API (v1.18.x, internal/web/api/api.go under /api/v0/web): component health, and whether container-log
 * collection works. Alloy's own readiness says nothing about it: discovery.docker stays "healthy" when it cannot
 * reach the Docker socket (it only logs the failed refresh), so the check also reads what discovery.docker found and
 * what loki.source.docker's tailers last failed with.
 */
import { HttpClient, describeAnswer } from './http.js';

export const alloyPaths = {
  components: '/api/v0/web/components',
  component: (id: string) => `/api/v0/web/components/${id}`,
} as const;

/** The component kinds that collect container logs on compose (config/alloy/logs-docker.alloy, discovery-docker-*.alloy). */
export const DOCKER_LOG_COMPONENTS = ['discovery.docker', 'loki.source.docker'] as const;

export interface AlloyComponent {
  name: string;
  localID: string;
  health: { state: string; message: string };
  exports?: AlloyStatement[];
  debugInfo?: AlloyStatement[];
}

/** An alloyjson statement: an attribute with a value, or a block with a body. */
export type AlloyStatement = { name: string; type: 'attr'; value: AlloyValue } | { name: string; type: 'block'; label?: string; body: AlloyStatement[] };
export interface AlloyValue {
  type: string;
  value: unknown;
}

export type LogCollection = { ok: true; detail: string } | { ok: false; detail: string };

const attr = (body: AlloyStatement[] | undefined, name: string): AlloyValue | undefined => {
  const s = body?.find((x) => x.name === name && x.type === 'attr');
  return s && s.type === 'attr' ? s.value : undefined;
};

export class AlloyClient {
  constructor(readonly http: HttpClient) {}

  async components(): Promise<{ ok: true; list: AlloyComponent[] } | { ok: false; got: string }> {
    const a = await this.http.request(alloyPaths.components);
    if (a.status !== 200 || !Array.isArray(a.json)) return { ok: false, got: describeAnswer(a) };
    return { ok: true, list: a.json as AlloyComponent[] };
  }

  async component(id: string): Promise<{ ok: true; component: AlloyComponent } | { ok: false; got: string }> {
    const a = await this.http.request(alloyPaths.component(id));
    if (a.status !== 200 || typeof a.json !== 'object' || a.json === null) return { ok: false, got: describeAnswer(a) };
    return { ok: true, component: a.json as AlloyComponent };
  }

  /**
   * Container logs reach Loki when every discovery.docker and loki.source.docker component is healthy, discovery
   * found at least one container (the stack's own always run while Alloy does), and no tailer reports an error.
   */
  async dockerLogCollection(): Promise<LogCollection> {
    const all = await this.components();
    if (!all.ok) return { ok: false, detail: `Alloy's component API (${alloyPaths.components}) did not answer as expected: ${all.got}` };
    const mine = all.list.filter((c) => (DOCKER_LOG_COMPONENTS as readonly string[]).includes(c.name));
    if (!mine.length) return { ok: false, detail: 'Alloy runs without container-log collection (the engine\'s Docker socket could not be mounted; `mop-sandbox doctor` says why)' };
    const sick = mine.filter((c) => c.health?.state !== 'healthy');
    if (sick.length) return { ok: false, detail: sick.map((c) => `${c.localID} is ${c.health?.state ?? 'unknown'}${c.health?.message ? ` (${c.health.message})` : ''}`).join('; ') };
    for (const c of mine) {
      const detail = await this.component(c.localID);
      if (!detail.ok) return { ok: false, detail: `${c.localID}: ${detail.got}` };
      if (c.name === 'discovery.docker') {
        const targets = attr(detail.component.exports, 'targets');
        if (!Array.isArray(targets?.value) || targets.value.length === 0) {
          return { ok: false, detail: `${c.localID} finds no containers: Alloy cannot list them through the socket proxy (\`mop-sandbox logs alloy\` shows why; \`mop-sandbox logs\` also shows the proxy's own lines)` };
        }
      } else {
        const failing = (detail.component.debugInfo ?? [])
          .filter((s): s is Extract<AlloyStatement, { type: 'block' }> => s.type === 'block' && s.name === 'targets_info')
          .map((b) => String(attr(b.body, 'last_error')?.value ?? ''))
          .filter(Boolean);
        if (failing.length) return { ok: false, detail: `${c.localID} cannot read ${failing.length} container log(s): ${failing[0]}` };
      }
    }
    return { ok: true, detail: `${mine.map((c) => c.localID).join(', ')} healthy` };
  }
}
