/**
 * Alloy without root on a rootful local dockerd (security review F4, issue 13 item 3), on the real engine: after `up`,
 * a container with exactly the Alloy container's user, added groups and socket mount (the Node stand-in, which can
 * speak HTTP over a unix socket; the busybox Alloy stand-in cannot) reaches the Docker API through the socket, and
 * the same user without the socket's group is refused. So the rendered `user` + `group_add` is what grants access.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { skipGroup } from '../support/skips.js';
import { nodeStandInUnavailable } from '../support/node-stand-in.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { createSandbox, docker, repoRoot, type Sandbox } from './harness.js';

const lock = join(repoRoot, 'demo-app', 'package-lock.json');
const why = engineUnavailable() ?? nodeStandInUnavailable(lock);
const skipped = skipGroup('Alloy socket access engine test', why, { requiredInCI: true });

let s: Sandbox | undefined;
afterAll(async () => {
  if (!s) return;
  await s.run('down', '--purge', '--json').catch(() => undefined);
  await s.cleanup();
});

/** GET /_ping over the mounted socket as `user` with `groups`: the answer, or the error code. */
function ping(image: string, user: string, groups: string[], socket: string): string {
  const script = "require('http').get({socketPath:'/var/run/docker.sock',path:'/_ping'},r=>{let b='';r.on('data',d=>b+=d);r.on('end',()=>console.log(r.statusCode+' '+b))}).on('error',e=>console.log(e.code))";
  const args = ['run', '--rm', '--user', user, ...groups.flatMap((g) => ['--group-add', g]), '-v', `${socket}:/var/run/docker.sock:ro`, '--entrypoint', 'node', image, '-e', script];
  return execFileSync('docker', args, { encoding: 'utf8' }).trim();
}

describe.skipIf(skipped)('Alloy reads the Docker socket as uid 473 through the socket\'s group (real engine)', () => {
  it('stand-in: the rendered user and group reach the Docker API; without the group the socket refuses', async () => {
    s = await createSandbox('sock');
    const up = await s.run('up', '--no-open', '--json');
    expect(up.code, JSON.stringify(up.json?.error)).toBe(ExitCode.ok);
    const alloyId = (await s.containers()).find((c) => c.Labels['com.docker.compose.service'] === 'alloy')!.Id;
    const alloy = await docker.getContainer(alloyId).inspect();
    const socket = alloy.Mounts.find((m) => m.Destination === '/var/run/docker.sock')!.Source;
    expect(alloy.Config.User).toBe('473:473');
    const groups = alloy.HostConfig.GroupAdd ?? [];
    expect(groups).toHaveLength(1);

    // The sandbox's gateway image is the Node stand-in, under a tag nothing prunes (harness.ts).
    const image = s.images.gateway;
    expect(image).toMatch(/^mop-standin:gateway-/);
    expect(ping(image, alloy.Config.User, groups, socket)).toBe('200 OK');
    expect(ping(image, alloy.Config.User, [], socket)).toBe('EACCES');
  }, 240_000);
});
