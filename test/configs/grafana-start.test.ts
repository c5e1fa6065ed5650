/**
 * config/grafana/start.sh, run with /bin/sh as the Grafana container runs it, against a stand-in `grafana`
 * command (the real image cannot be pulled here) that installs a plugin the way `grafana cli plugins install`
 * lays it out (<pluginsDir>/<id>/plugin.json) or fails like it does without network.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildStack, component } from '../../scripts/stack/model.js';
import { grafanaPlugins } from '../../scripts/stack/versions.js';
import { configDir } from './paths.js';

const script = join(configDir, 'grafana/start.sh');
const grafana = component(buildStack(), 'grafana')!;
const pinned = String(grafana.env.MOP_GRAFANA_PLUGINS);

let dir: string;
let plugins: string;
let calls: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mop-grafana-start-'));
  plugins = join(dir, 'plugins');
  calls = join(dir, 'calls.log');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  // Stand-in for `grafana cli --pluginsDir DIR plugins install ID VERSION`.
  writeFileSync(
    join(bin, 'grafana'),
    [
      '#!/bin/sh',
      `echo "$*" >> "${calls}"`,
      'if [ "${STANDIN_OFFLINE:-}" = 1 ]; then echo "Error: failed to send request: dial tcp: lookup grafana.com: no such host" >&2; exit 1; fi',
      '[ "$1 $2 $4 $5" = "cli --pluginsDir plugins install" ] || { echo "unexpected arguments: $*" >&2; exit 2; }',
      'mkdir -p "$3/$6" && printf \'{\\n  "id": "%s",\\n  "info": {\\n    "version": "%s"\\n  }\\n}\\n\' "$6" "$7" > "$3/$6/plugin.json"',
    ].join('\n'),
  );
  chmodSync(join(bin, 'grafana'), 0o755);
  // Stand-in for the image's /run.sh: records its arguments and what the plugins folder holds.
  writeFileSync(join(dir, 'run.sh'), `#!/bin/sh\necho "run.sh $*"\nls "${plugins}"\n`);
  chmodSync(join(dir, 'run.sh'), 0o755);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start(env: Record<string, string> = {}, args: string[] = []) {
  const r = spawnSync('/bin/sh', [script, ...args], {
    encoding: 'utf8',
    env: {
      PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
      GF_PATHS_PLUGINS: plugins,
      MOP_GRAFANA_PLUGINS: pinned,
      MOP_GRAFANA_ENTRYPOINT: join(dir, 'run.sh'),
      ...env,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const callCount = () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n').length : 0);
const versionOf = (id: string) => JSON.parse(readFileSync(join(plugins, id, 'plugin.json'), 'utf8')).info.version;

describe('Grafana start script with a stand-in grafana cli', () => {
  it('the model pins the Drilldown apps from versions.ts and starts Grafana through the script', () => {
    expect(pinned.split(' ')).toEqual(grafanaPlugins.map((p) => `${p.id}@${p.version}`));
    expect(pinned).toContain('grafana-lokiexplore-app@');
    expect(grafana.entrypoint).toEqual(['/bin/sh', grafana.configFiles.find((f) => f.source === 'grafana/start.sh')!.target]);
    expect(grafana.env.GF_PLUGINS_PREINSTALL_DISABLED).toBe('true');
  });

  it('installs each pinned app on the first start, then hands over to /run.sh with its arguments', () => {
    const r = start({}, ['cfg:default.log.level=info']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('run.sh cfg:default.log.level=info');
    for (const p of grafanaPlugins) expect(versionOf(p.id)).toBe(p.version);
    expect(callCount()).toBe(grafanaPlugins.length);
    expect(readdirSync(plugins).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('works offline once fetched: nothing is downloaded again', () => {
    expect(start().status).toBe(0);
    const before = callCount();
    const r = start({ STANDIN_OFFLINE: '1' });
    expect(r.status).toBe(0);
    expect(callCount()).toBe(before);
    expect(r.stderr).toBe('');
  });

  it('starts Grafana without the apps when they cannot be fetched, saying why, and leaves nothing half-installed', () => {
    const r = start({ STANDIN_OFFLINE: '1' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('run.sh');
    expect(r.stderr).toContain('could not install grafana-lokiexplore-app');
    expect(r.stderr).toContain('no such host');
    expect(readdirSync(plugins)).toEqual([]);
  });

  it('replaces an older version when the pin moves, and keeps it when the new one cannot be fetched', () => {
    const [first] = grafanaPlugins;
    mkdirSync(join(plugins, first.id), { recursive: true });
    writeFileSync(join(plugins, first.id, 'plugin.json'), '{ "info": { "version": "0.0.1" } }');
    expect(start({ STANDIN_OFFLINE: '1' }).status).toBe(0);
    expect(versionOf(first.id)).toBe('0.0.1');
    expect(start().status).toBe(0);
    expect(versionOf(first.id)).toBe(first.version);
  });
});
