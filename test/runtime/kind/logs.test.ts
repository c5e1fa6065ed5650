/** `logs` on kind (scripts/runtimes/kind/logs.ts), against the recorded shell of ./world.ts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createExec } from '../../../scripts/lib/exec.js';
import { createKindRuntime } from '../../../scripts/runtimes/kind/index.js';
import { buildStack } from '../../../scripts/stack/model.js';
import { sandbox } from '../kind-shell.js';
import { K, setup } from './world.js';

describe('kind runtime status, exists, logs (recorded shell)', () => {
  async function logsBox() {
    const box = await setup(buildStack(), [
      ['kind get clusters', { stdout: 'mop-sandbox\n' }],
      ['kind export kubeconfig', {}],
      [`${K} get namespaces`, { stdout: 'namespace/mop-system\n' }],
      [
        `${K} logs`,
        {
          stdout: '[pod/tempo-0/tempo] level=info msg=started\n[pod/grafana-7c/grafana] logger=server msg="HTTP Server Listen"\n',
        },
      ],
    ]);
    return box;
  }

  it('logs of every component: kubectl logs -l app.kubernetes.io/name --prefix, lines prefixed with the component', async () => {
    const box = await logsBox();
    const lines: string[] = [];
    await box.rt.logs(undefined, { follow: false, tail: 100, signal: new AbortController().signal, write: (l) => lines.push(l) });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name --tail=100 --prefix --max-log-requests=50`);
    expect(lines).toEqual(['tempo | level=info msg=started', 'grafana | logger=server msg="HTTP Server Listen"']);
  });

  it('logs of one component, following: -l app.kubernetes.io/name=<component> -f, lines without prefix', async () => {
    const box = await logsBox();
    const lines: string[] = [];
    await box.rt.logs('tempo', { follow: true, tail: 20, signal: new AbortController().signal, write: (l) => lines.push(l) });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name=tempo --tail=20 --prefix --max-log-requests=50 -f --ignore-errors`);
    expect(lines[0]).toBe('level=info msg=started');
    await box.rt.logs('tempo', { follow: false, tail: Number.MAX_SAFE_INTEGER, signal: new AbortController().signal, write: () => undefined });
    expect(box.sh.calls.at(-1)).toBe(`${K} logs -n mop-system -l app.kubernetes.io/name=tempo --tail=-1 --prefix --max-log-requests=50`);
  });

  it('logs -f streams lines as they arrive and stops on Ctrl-C (real exec wrapper, stand-in kind/kubectl scripts on PATH)', async () => {
    const box = await sandbox(buildStack());
    const bin = join(box.root, 'bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'kind'), '#!/bin/sh\n[ "$1 $2" = "get clusters" ] && echo mop-sandbox\nexit 0\n', { mode: 0o755 });
    writeFileSync(
      join(bin, 'kubectl'),
      [
        '#!/bin/sh',
        'case "$*" in',
        '  *"get namespaces"*) echo namespace/mop-system ;;',
        '  *" logs "*) echo "[pod/tempo-0/tempo] first"; sleep 0.2; echo "[pod/loki-0/loki] second"; exec sleep 30 ;;',
        'esac',
      ].join('\n') + '\n',
      { mode: 0o755 },
    );
    mkdirSync(join(box.state, 'kind', 'mop-sandbox'), { recursive: true });
    writeFileSync(join(box.state, 'kind', 'mop-sandbox', 'kubeconfig'), 'stand-in');
    // The full environment: zx takes seconds to start a program when most variables are missing.
    const env: NodeJS.ProcessEnv = { ...process.env, MOP_STATE_DIR: box.state, PATH: `${bin}:${process.env.PATH}` };
    delete env.MOP_KIND_CLUSTER;
    const rt = createKindRuntime({ exec: createExec(), env });
    const ctl = new AbortController();
    const lines: string[] = [];
    await rt.logs(undefined, {
      follow: true,
      tail: 10,
      signal: ctl.signal,
      write: (l) => {
        lines.push(l);
        if (lines.length === 2) ctl.abort();
      },
    });
    // Returning at all is the point: a follow that ignored the abort would run until the test's timeout.
    expect(lines).toEqual(['tempo | first', 'loki | second']);
  });

  it('logs with no cluster: a UserError saying how to start it', async () => {
    const box = await setup(buildStack(), [['kind get clusters', { stdout: '' }]]);
    const err = await box.rt.logs(undefined, { follow: false, tail: 10, signal: new AbortController().signal, write: () => undefined }).catch((e) => e);
    expect(err).toMatchObject({ code: 'NOT_RUNNING' });
    expect(err.next).toContain('mop-sandbox up --runtime kind');
  });
});
