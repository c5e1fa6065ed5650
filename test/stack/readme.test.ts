import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildStack } from '../../scripts/stack/model.js';
import { ExitCode } from '../../scripts/lib/errors.js';

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

  it('starts with the two commands a newcomer runs', () => {
    const block = /```sh\n([\s\S]*?)```/.exec(readme)![1];
    expect(block).toMatch(/npx mop-sandbox up/);
    expect(block).toMatch(/^npm test/m);
  });
});
