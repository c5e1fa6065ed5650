/**
 * The command table. Modules load lazily so `mop-sandbox --help` does not import Docker clients or renderers.
 * Adding a command: one line here, one module in this folder exporting `command`.
 */
import type { Command } from './command.js';

export const commandLoaders: Record<string, { summary: string; load: () => Promise<Command> }> = {
  render: { summary: 'Write the compose file or Kubernetes manifests for a profile', load: async () => (await import('./render.js')).command },
};
