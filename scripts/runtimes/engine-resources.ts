/**
 * How to give the engine more memory (and CPUs, where a check counts them), for the product that answered: the
 * memory and CPUs the engine reports are its VM's on Docker Desktop, Colima, OrbStack, Rancher Desktop and Podman
 * machine, and the host's on Linux. Each answer is the product's documented way (docs.docker.com Desktop settings
 * and WSL docs: `memory` and `processors` under `[wsl2]` in .wslconfig; Colima's `colima start --cpu --memory`, memory
 * in GiB; podman-machine-set(1): `--cpus`, `--memory` in MiB, machine stopped first, not for WSL machines). One
 * table for both runtimes: compose asks for memory, kind for CPUs and memory.
 */
import type { Engine } from '../lib/docker.js';

/** The engine runs in WSL2 (Docker Desktop's WSL2 backend, Rancher Desktop and Podman machine on Windows). */
export const runsInWsl2 = (engine: Pick<Engine, 'kernel'>) => /microsoft|wsl/i.test(engine.kernel ?? '');

/** What to ask the engine for: memory in whole GiB, and a CPU count when the check counted CPUs. */
export interface EngineAsk {
  gib: number;
  cpus?: number;
}

export function engineResourcesFix(engine: Pick<Engine, 'product' | 'kernel'>, platform: NodeJS.Platform, ask: EngineAsk): string {
  const { gib, cpus } = ask;
  const both = cpus !== undefined;
  const amount = (unit: 'GB' | 'GiB') => `${both ? `${cpus} CPUs and ` : ''}${gib} ${unit}`;
  const wslconfig = (who: string) =>
    `${who} runs in WSL2, which takes its ${both ? 'CPUs and memory' : 'memory'} from WSL: put \`memory=${gib}GB\`${both ? ` and \`processors=${cpus}\`` : ''} under \`[wsl2]\` in \`%UserProfile%\\.wslconfig\`, run \`wsl --shutdown\`, then start ${who} again`;
  const local = (who: string) => `${who} on this machine: close other programs, or use a machine with ${amount('GiB')}`;
  switch (engine.product) {
    case 'Docker Desktop':
      return runsInWsl2(engine)
        ? wslconfig('Docker Desktop')
        : `give Docker Desktop ${amount('GB')}: Settings → Resources → Advanced → ${both ? 'CPU limit and ' : ''}Memory limit, then Apply & restart`;
    case 'Colima':
      return `restart Colima with ${amount('GiB')}: \`colima stop && colima start${both ? ` --cpu ${cpus}` : ''} --memory ${gib}\``;
    case 'OrbStack':
      return `raise OrbStack's memory limit to ${gib} GB${both ? ` and its CPU limit to ${cpus}` : ''} (OrbStack Settings → System)`;
    case 'Rancher Desktop':
      return runsInWsl2(engine) ? wslconfig('Rancher Desktop') : `give Rancher Desktop ${amount('GB')}: Preferences → Virtual Machine → ${both ? 'CPUs and ' : ''}Memory`;
    case 'Podman':
      if (runsInWsl2(engine)) return wslconfig('the Podman machine');
      if (platform === 'linux') return local('Podman runs');
      return `the Podman machine must be stopped to change its ${both ? 'CPUs and memory' : 'memory'}: \`podman machine stop && podman machine set${both ? ` --cpus ${cpus}` : ''} --memory ${gib * 1024} && podman machine start\``;
    default:
      if (runsInWsl2(engine)) return wslconfig('the engine');
      return platform === 'linux' ? local('the engine runs') : `give the engine's virtual machine ${amount('GiB')} (its ${both ? 'CPUs and memory are' : 'memory is'} what \`docker info\` reports)`;
  }
}
