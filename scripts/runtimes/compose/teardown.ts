/**
 * `down` on compose: stop and remove the project's containers and networks by label (ours only); keep the data
 * volumes unless `--purge`, which also removes the rendered compose file.
 */
import { join } from 'node:path';
import { unreachableError } from '../../lib/docker.js';
import { UserError } from '../../lib/errors.js';
import { removeUnder } from '../../lib/remove.js';
import { stateDir } from '../../lib/state.js';
import type { DownResult } from '../runtime.js';
import { client, type ComposeContext, isOwn, ownVolumes, projectContainers, projectLabel } from './context.js';

export async function removeContainersAndNetworks(cx: ComposeContext): Promise<{ containers: number; networks: number }> {
  const d = client(cx);
  const list = await projectContainers(cx);
  await Promise.all(
    list.map(async (c) => {
      const h = d.getContainer(c.Id);
      if (c.State === 'running' || c.State === 'restarting' || c.State === 'paused') await h.stop({ t: 10 }).catch(() => undefined);
      await h.remove({ force: true, v: true }).catch((e: { statusCode?: number }) => {
        if (e?.statusCode !== 404) throw e;
      });
    }),
  );
  const nets = (await d.listNetworks({ filters: { label: [`${projectLabel}=${cx.project}`] } })).filter((n) => isOwn(n.Labels, cx.project, n.Name));
  await Promise.all(nets.map((n) => d.getNetwork(n.Id).remove().catch(() => undefined)));
  return { containers: list.length, networks: nets.length };
}

export async function down(cx: ComposeContext, opts: { purge: boolean }): Promise<DownResult> {
  const { containers, networks } = await removeContainersAndNetworks(cx).catch((e) => {
    throw e instanceof UserError ? e : unreachableError(cx.endpoint, e, cx.platform);
  });
  const vols = await ownVolumes(cx);
  let removed = 0;
  if (opts.purge) {
    await Promise.all(vols.map((name) => client(cx).getVolume(name).remove()));
    removed = vols.length;
    await removeUnder(stateDir(cx.env), join(stateDir(cx.env), 'compose'));
  }
  return { containers, networks, volumes: removed, volumesKept: opts.purge ? 0 : vols.length };
}
