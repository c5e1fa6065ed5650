/**
 * How to give the engine more memory, for the product that answered: the memory the engine reports (MemTotal) is
 * its VM's on Docker Desktop, Colima, OrbStack, Rancher Desktop and Podman machine, and the host's on Linux.
 * Each answer is the product's documented way (docs.docker.com Desktop settings and WSL docs, Colima's
 * `colima start --memory` in GiB, podman-machine-set(1): memory in MiB, machine stopped first, not for WSL machines).
 */
import type { Engine } from '../lib/docker.js';

/** The engine runs in WSL2 (Docker Desktop's WSL2 backend, Rancher Desktop and Podman machine on Windows). */
export const runsInWsl2 = (engine: Pick<Engine, 'kernel'>) => /microsoft|wsl/i.test(engine.kernel ?? '');

/** `gib`: the engine memory to ask for, in whole GiB. */
export function engineMemoryFix(engine: Pick<Engine, 'product' | 'kernel'>, platform: NodeJS.Platform, gib: number): string {
  const wslconfig = (who: string) =>
    `${who} runs in WSL2, which takes its memory from WSL: put \`memory=${gib}GB\` under \`[wsl2]\` in \`%UserProfile%\\.wslconfig\`, run \`wsl --shutdown\`, then start ${who} again`;
  switch (engine.product) {
    case 'Docker Desktop':
      return runsInWsl2(engine)
        ? wslconfig('Docker Desktop')
        : `give Docker Desktop ${gib} GB: Settings → Resources → Advanced → Memory limit, then Apply & restart`;
    case 'Colima':
      return `restart Colima with ${gib} GiB: \`colima stop && colima start --memory ${gib}\``;
    case 'OrbStack':
      return `raise OrbStack's memory limit to ${gib} GB (OrbStack Settings → System → Memory limit)`;
    case 'Rancher Desktop':
      return runsInWsl2(engine) ? wslconfig('Rancher Desktop') : `give Rancher Desktop ${gib} GB: Preferences → Virtual Machine → Memory`;
    case 'Podman':
      if (runsInWsl2(engine)) return wslconfig('the Podman machine');
      if (platform === 'linux') return `Podman runs on this machine: close other programs, or use a machine with ${gib} GiB`;
      return `the Podman machine must be stopped to change its memory: \`podman machine stop && podman machine set --memory ${gib * 1024} && podman machine start\``;
    default:
      if (runsInWsl2(engine)) return wslconfig('the engine');
      return platform === 'linux'
        ? `the engine runs on this machine: close other programs, or use a machine with ${gib} GiB`
        : `give the engine's virtual machine ${gib} GiB (its memory is what \`docker info\` reports)`;
  }
}
