/**
 * The Docker socket on a rootful local dockerd (security review F4), on the real engine: after `up`, only the socket
 * proxy mounts the socket, and a container with exactly the proxy's user, added groups and socket mount (the Node
 * stand-in, the proxy's own image, which can speak HTTP over a unix socket) reaches the Docker API through it while
 * the same user without the socket's group is refused: the rendered `user` + `group_add` is what grants access.
 * Alloy holds no socket: from its container the proxy answers reads and refuses writes, and a container outside the
 * proxy's network (the demo) cannot reach the proxy at all.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/lib/errors.js';
import { skipGroup } from '../support/skips.js';
import { nodeStandInUnavailable } from '../support/node-stand-in.js';
import { engineUnavailable } from '../support/stand-ins.js';
import { SOCKET_PROXY, SOCKET_PROXY_PORT } from '../../scripts/stack/socket-proxy.js';
import { createSandbox, docker, execIn, repoRoot, type Sandbox } from './harness.js';

const lock = join(repoRoot, 'demo-app', 'package-lock.json');
const why = engineUnavailable() ?? nodeStandInUnavailable(lock);
const skipped = skipGroup('socket proxy access engine test', why, { requiredInCI: true });

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

describe.skipIf(skipped)('the socket proxy reads the Docker socket as the Node image\'s user through the socket\'s group; Alloy only reaches the proxy (real engine)', () => {
  it('stand-in: the rendered user and group reach the Docker API; without the group the socket refuses; Alloy reads through the proxy, writes are refused', async () => {
    s = await createSandbox('sock');
    const up = await s.run('up', '--no-open', '--json');
    expect(up.code, JSON.stringify(up.json?.error)).toBe(ExitCode.ok);
    const ids = new Map((await s.containers()).map((c) => [c.Labels['com.docker.compose.service'], c.Id]));
    const proxy = await docker.getContainer(ids.get(SOCKET_PROXY)!).inspect();
    const socket = proxy.Mounts.find((m) => m.Destination === '/var/run/docker.sock')!.Source;
    expect(proxy.Config.User).toBe('1000:1000');
    const groups = proxy.HostConfig.GroupAdd ?? [];
    expect(groups).toHaveLength(1);

    // The sandbox's gateway image is the Node stand-in, under a tag nothing prunes (harness.ts); the proxy runs it.
    const image = s.images.gateway;
    expect(image).toMatch(/^mop-standin:gateway-/);
    expect(proxy.Config.Image).toBe(image);
    expect(ping(image, proxy.Config.User, groups, socket)).toBe('200 OK');
    expect(ping(image, proxy.Config.User, [], socket)).toBe('EACCES');

    // Alloy: no socket, no group; the proxy answers its reads and refuses the rest with its 403.
    const alloyId = ids.get('alloy')!;
    const alloy = await docker.getContainer(alloyId).inspect();
    expect(alloy.Mounts.map((m) => m.Destination)).not.toContain('/var/run/docker.sock');
    expect(alloy.HostConfig.GroupAdd ?? []).toEqual([]);
    const api = `http://${SOCKET_PROXY}:${SOCKET_PROXY_PORT}`;
    expect(await execIn(alloyId, ['wget', '-q', '-O-', `${api}/_ping`])).toBe('OK');
    const listed = JSON.parse(await execIn(alloyId, ['wget', '-q', '-O-', `${api}/v1.41/containers/json`])) as { Id: string }[];
    expect(listed.map((c) => c.Id)).toContain(alloyId);
    const create = await execIn(alloyId, ['sh', '-c', `wget -S -O- --post-data '{}' --header 'Content-Type: application/json' ${api}/v1.41/containers/create 2>&1; true`]);
    expect(create).toMatch(/403 Forbidden/);
    expect((await s.containers()).length).toBe(ids.size);
    // Every other container (here Tempo) is not on the proxy's network: the name does not even resolve there.
    // (busybox-static's wget has no -T: it crashes on it.)
    const other = await execIn(ids.get('tempo')!, ['sh', '-c', `wget -q -O- ${api}/_ping 2>&1; echo "exit $?"`]);
    expect(other).toMatch(new RegExp(`bad address '${SOCKET_PROXY}:${SOCKET_PROXY_PORT}'[\\s\\S]*exit 1`));
  }, 240_000);
});
