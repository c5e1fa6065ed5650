import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildStack } from '../../scripts/stack/model.js';
import { ErrorCodes, ExitCode } from '../../scripts/lib/errors.js';
import { commandTable, type CommandName } from '../../scripts/commands/index.js';
import { memoryNeeds, recommendedEngineGiB } from '../../scripts/runtimes/preflight.js';
import { BUILDX_STRICT_COMPOSE, composeFeatures } from '../../scripts/runtimes/compose-version.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README stays true', () => {
  it('lists exactly the ports the stack model publishes', () => {
    const stack = buildStack();
    const expected = stack.published.map((p) => {
      const description = stack.components.find((c) => c.name === p.component)!.ports.find((x) => x.name === p.name)!.description;
      return `| ${p.component} | ${p.name} | ${p.hostIp}:${p.hostPort} | ${description} |`;
    });
    const rows = readme.split('\n').filter((l) => /^\| \w+ \| [\w-]+ \| 127\.0\.0\.1:\d+ \|/.test(l));
    expect(rows).toEqual(expected);
  });

  it('documents every exit code', () => {
    for (const code of Object.values(ExitCode)) expect(readme).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
  });

  it('documents exactly the error codes of scripts/lib/errors.ts', () => {
    const section = readme.split('### Error codes')[1].split('\n## ')[0];
    const documented = section.split('\n').filter((l) => l.startsWith('| `')).flatMap((l) => [...l.split(' | ')[0].matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]));
    expect([...documented].sort()).toEqual([...ErrorCodes].sort());
  });

  it("the commands table names every command and each of its declared flags", async () => {
    for (const name of Object.keys(commandTable) as CommandName[]) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${name}`));
      expect(row, `README commands table has no row for ${name}`).toBeDefined();
      const cmd = await commandTable[name].load();
      for (const flag of Object.keys(cmd.flags)) expect(row, `README row of ${name} lacks --${flag}`).toContain(`--${flag}`);
    }
  });

  it('starts with the two commands a newcomer runs', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toMatch(/npx mop-sandbox up/);
    expect(block).toMatch(/^npm test/m);
  });

  it('states the engine memory the model derives (the Platforms section)', () => {
    const para = readme.split('**Memory.**')[1].split('\n\n')[0].replace(/\s+/g, ' ');
    const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
    for (const profile of ['default', 'dev'] as const) {
      const stack = buildStack({ profile });
      expect(para).toContain(`**${recommendedEngineGiB(stack)} GiB** for the default and dev profiles (limits ${gib(memoryNeeds(stack).limits)})`);
    }
    expect(para).toContain(`less than the profile's requests (${gib(memoryNeeds(buildStack()).requests)} on the default profile)`);
    expect(para).toContain(`colima start --memory ${recommendedEngineGiB(buildStack())}\``);
    expect(para).toContain(`podman machine set --memory ${recommendedEngineGiB(buildStack()) * 1024} &&`);
  });

  it('the Platforms table: five cells a row, and every test it cites exists', () => {
    const section = readme.split('\n## Platforms\n')[1].split('\n## ')[0];
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| platform |') && !l.startsWith('| ---'));
    expect(rows.length).toBeGreaterThan(5);
    for (const row of rows) {
      // Cells split on " | " (a `|` inside a cell would shift the columns).
      expect(row.replace(/^\| | \|$/g, '').split(' | '), row).toHaveLength(5);
      for (const m of row.matchAll(/`(test\/[\w/.-]+\.test\.ts)`/g)) expect(existsSync(new URL(`../../${m[1]}`, import.meta.url)), m[1]).toBe(true);
    }
  });

  it('states the compose releases the feature table requires', () => {
    const para = readme.split('**Compose version.**')[1].split('\n\n')[0].replace(/\s+/g, ' ');
    expect(para).toContain(`${composeFeatures.pullNever.since} for \`up --pull never\``);
    expect(para).toContain(`${composeFeatures.startInterval.since} when the engine takes \`healthcheck.start_interval\``);
    expect(para).toContain(`compose ${BUILDX_STRICT_COMPOSE} or later`);
  });
});
