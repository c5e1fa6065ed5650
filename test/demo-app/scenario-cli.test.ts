/**
 * `mop-sandbox scenario` as a real CLI process against the real control API code (in this process, with its
 * real scenario registry; the services behind it are replaced by a recorder of what would be sent to them).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createControlApi } from '../../demo-app/launcher/control-api.js';
import { createScenarioRegistry } from '../../demo-app/launcher/scenario-registry.js';
import { cleanEnv, repoRoot } from './demo-process.js';
import { unusedPort } from '../support/host-ports.js';

let server: Server;
let url: string;
let registry: ReturnType<typeof createScenarioRegistry>;
const forwarded: Record<string, Record<string, number>>[] = [];

beforeAll(async () => {
  registry = createScenarioRegistry({ onChange: (active: Record<string, Record<string, number>>) => forwarded.push(active) });
  const supervisor = { allReady: () => true, status: () => ({}) };
  server = createControlApi({ registry, supervisor } as never);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  registry.stop();
  await new Promise((r) => server.close(r));
});

/**
 * The compiled CLI when `npm test` has just built it (twice as fast to start), else the sources through tsx,
 * so a stale dist/ never hides an edit.
 */
function cliEntry(): string[] {
  const built = join(repoRoot, 'dist/scripts/cli.js');
  try {
    const builtAt = statSync(built).mtimeMs;
    const sources = readdirSync(join(repoRoot, 'scripts'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    if (sources.every((f) => statSync(join(repoRoot, 'scripts', f)).mtimeMs <= builtAt)) return [built];
  } catch {
    // not built
  }
  return ['--import', 'tsx', 'scripts/cli.ts'];
}
const entry = cliEntry();

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...entry, 'scenario', ...args],
      { cwd: repoRoot, env: { ...cleanEnv(), MOP_DEMO_CONTROL_URL: '', ...env }, timeout: 20_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('scenario list', () => {
  it('prints every scenario with its service, state and parameters', async () => {
    const { code, stdout } = await cli(['list', '--url', url]);
    expect(code).toBe(0);
    for (const name of ['latency-spike', 'error-burst', 'slow-dependency', 'log-flood', 'memory-growth']) expect(stdout).toMatch(new RegExp(`^${name}\\s`, 'm'));
    expect(stdout).toMatch(/^error-burst\s+payments\s+off\s+--rate=0\.5 fraction/m);
  });

  it('gives one JSON document with --json', async () => {
    const { code, stdout } = await cli(['list', '--json', '--url', url]);
    expect(code).toBe(0);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ ok: true, exitCode: 0 });
    expect(doc.scenarios).toHaveLength(5);
  });
});

describe('scenario finds the demo from the stack model', () => {
  it('without --url, reaches the control API on the port the settings moved it to (MOP_PORT_DEMO_CONTROL)', async () => {
    const state = mkdtempSync(join(tmpdir(), 'mop-scenario-'));
    try {
      const port = new URL(url).port;
      const { code, stdout } = await cli(['list', '--json'], { MOP_PORT_DEMO_CONTROL: port, MOP_STATE_DIR: state });
      expect(code).toBe(0);
      expect(JSON.parse(stdout).scenarios).toHaveLength(5);
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });
});

describe('scenario start / stop', () => {
  it('starts a scenario with --rate and --duration and forwards it to the services', async () => {
    const { code, stdout } = await cli(['start', 'error-burst', '--rate', '0.3', '--duration', '600', '--url', url]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/started error-burst on payments \(--rate=0\.3 --duration=600\), stops by itself at /);
    expect(forwarded.at(-1)).toEqual({ 'error-burst': { rate: 0.3, durationS: 600 } });
  });

  it('finds the control API through MOP_DEMO_CONTROL_URL and passes --delay-ms', async () => {
    const { code, stdout } = await cli(['start', 'latency-spike', '--delay-ms', '250', '--json'], { MOP_DEMO_CONTROL_URL: url });
    expect(code).toBe(0);
    expect(JSON.parse(stdout).started).toMatchObject({ name: 'latency-spike', service: 'payments', params: { delayMs: 250, durationS: 0 } });
    expect(registry.snapshot()).toMatchObject({ 'latency-spike': { delayMs: 250 } });
  });

  it('stops them all', async () => {
    const { code, stdout } = await cli(['stop', '--url', url]);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('stopped error-burst, latency-spike');
    expect(forwarded.at(-1)).toEqual({});
    expect((await cli(['stop', '--url', url])).stdout.trim()).toBe('no scenario was running');
  });
});

describe('errors', () => {
  it('names the known scenarios for an unknown one (exit 2)', async () => {
    const { code, stderr } = await cli(['start', 'cpu-burn', '--url', url]);
    expect(code).toBe(2);
    expect(stderr).toContain('error: unknown scenario "cpu-burn"');
    expect(stderr).toMatch(/why: the demo app knows: latency-spike, error-burst, slow-dependency, log-flood, memory-growth/);
    expect(stderr).toContain('next: run `mop-sandbox scenario list`');
  });

  it("passes on the demo's reason for a parameter out of range, and a parameter the scenario does not take (exit 2)", async () => {
    const range = await cli(['start', 'error-burst', '--rate', '2', '--json', '--url', url]);
    expect(range.code).toBe(2);
    expect(JSON.parse(range.stdout).error).toMatchObject({ code: 'BAD_SCENARIO_PARAMETER', why: expect.stringMatching(/^--rate must be a number from 0 to 1/) });
    const wrong = await cli(['start', 'log-flood', '--delay-ms', '5', '--url', url]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('has no parameter "--delay-ms" (it takes: --rate, --duration)');
    expect(registry.snapshot()).toEqual({});
  });

  it('refuses bad input before calling anything (exit 2)', async () => {
    const [nan, listWithRate, none, restart] = await Promise.all([
      cli(['start', 'error-burst', '--rate', 'lots', '--url', url]),
      cli(['list', '--rate', '1', '--url', url]),
      cli(['--url', url]),
      cli(['restart', '--url', url]),
    ]);
    expect([nan.code, listWithRate.code, none.code, restart.code]).toEqual([2, 2, 2, 2]);
    expect(nan.stderr).toContain('--rate must be a number');
    expect(listWithRate.stderr).toContain('--rate only applies to `scenario start`');
    expect(restart.stderr).toContain('unknown subcommand "scenario restart"');
    expect(forwarded.at(-1)).toEqual({});
  });

  it('says how to start the demo when the control API is not there (exit 3)', async () => {
    const port = await unusedPort(); // nothing listens there (a port-0 listener closed again could be reused at once)
    const { code, stdout } = await cli(['list', '--json', '--url', `http://127.0.0.1:${port}`]);
    expect(code).toBe(3);
    expect(JSON.parse(stdout).error).toMatchObject({ code: 'DEMO_UNREACHABLE', why: 'ECONNREFUSED', next: expect.stringContaining('npm run demo') });
  });
});
