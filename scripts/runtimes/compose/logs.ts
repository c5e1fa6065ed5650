/** `logs` on compose: each container's log through the Docker API, merged by timestamp or followed. */
import { PassThrough } from 'node:stream';
import { containerName, type ContainerSummary, demuxLogs } from '../../lib/docker.js';
import type { ComponentName } from '../../stack/model.js';
import type { LogOptions } from '../runtime.js';
import { client, type ComposeContext, projectContainers, serviceLabel } from './context.js';

export async function logs(cx: ComposeContext, component: ComponentName | undefined, opts: LogOptions): Promise<void> {
  const list = (await projectContainers(cx)).filter((c) => !component || c.Labels?.[serviceLabel] === component);
  if (!list.length) return;
  const prefix = list.length > 1 || !component;
  const width = Math.max(...list.map((c) => (c.Labels?.[serviceLabel] ?? '').length));
  const label = (c: ContainerSummary) => (prefix ? `${(c.Labels?.[serviceLabel] ?? containerName(c)).padEnd(width)} | ` : '');
  const d = client(cx);
  if (!opts.follow) {
    const entries: { ts: string; line: string }[] = [];
    for (const c of list) {
      const h = d.getContainer(c.Id);
      const tty = Boolean((await h.inspect()).Config?.Tty);
      const raw = await h.logs({ stdout: true, stderr: true, tail: opts.tail, timestamps: true, follow: false });
      const text = demuxLogs(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw)), tty);
      for (const l of text.replace(/\r/g, '').split('\n')) {
        if (!l) continue;
        const sp = l.indexOf(' ');
        entries.push({ ts: l.slice(0, sp), line: label(c) + l.slice(sp + 1) });
      }
    }
    entries.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    for (const e of entries) opts.write(e.line);
    return;
  }
  await Promise.all(
    list.map(async (c) => {
      const h = d.getContainer(c.Id);
      const tty = Boolean((await h.inspect()).Config?.Tty);
      const stream = (await h.logs({ stdout: true, stderr: true, tail: opts.tail, follow: true })) as NodeJS.ReadableStream & { destroy?(): void };
      const text = new PassThrough();
      if (tty || !d.modem) stream.pipe(text);
      else d.modem.demuxStream(stream, text, text);
      let buf = '';
      text.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const l of lines) opts.write(label(c) + l.replace(/\r$/, ''));
      });
      await new Promise<void>((resolve) => {
        const end = () => {
          if (buf) opts.write(label(c) + buf);
          buf = '';
          resolve();
        };
        stream.on('end', end);
        stream.on('close', end);
        stream.on('error', end);
        opts.signal.addEventListener('abort', () => {
          stream.destroy?.();
          end();
        }, { once: true });
      });
    }),
  );
}
