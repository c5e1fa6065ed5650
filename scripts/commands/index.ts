/**
 * The command table: each command's one summary (for `mop-sandbox --help` and the command's own `--help`) and its
 * module, loaded only when the command runs, so `--help` and `--version` load no Docker client, renderer or zx.
 * Adding a command: one line here, one module in this folder exporting `command` (made with `defineCommand`).
 */
import type { Command } from './command.js';

interface Entry {
  summary: string;
  load: () => Promise<Command<any>>;
}

export const commandTable = {
  render: { summary: 'Write the compose file or Kubernetes manifests for a profile', load: async () => (await import('./render.js')).command },
  up: { summary: 'Check the machine, start the stack, wait until every component is ready, open Grafana', load: async () => (await import('./up.js')).command },
  status: { summary: 'Show each component: state, health and URL (exit 0 only when all are healthy)', load: async () => (await import('./status.js')).command },
  logs: { summary: 'Print the logs of one component or all (-f follows)', load: async () => (await import('./logs.js')).command },
  verify: {
    summary: 'Send one run of telemetry and prove every backend, datasource, dashboard and correlation works (exit 1 names the failed check)',
    load: async () => (await import('./verify.js')).command,
  },
  open: { summary: 'Open Grafana (or another component) in the browser and print its URL', load: async () => (await import('./open.js')).command },
  down: { summary: 'Stop and remove the stack, keeping data (--purge deletes data and credentials)', load: async () => (await import('./down.js')).command },
  doctor: { summary: 'Run every preflight check and say how to fix each failure', load: async () => (await import('./doctor.js')).command },
  credentials: { summary: 'Print the generated credentials (nothing else prints them)', load: async () => (await import('./credentials.js')).command },
  scenario: { summary: "List, start and stop the demo app's fault scenarios", load: async () => (await import('./scenario.js')).command },
} satisfies Record<string, Entry>;

export type CommandName = keyof typeof commandTable;
