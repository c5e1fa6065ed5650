import { describe, expect, it } from 'vitest';
import { CommandFailed, createExec } from '../../scripts/lib/exec.js';
import { recordingExec } from '../support/fake-exec.js';

describe('exec wrapper', () => {
  it('runs a real program and returns its output', async () => {
    const r = await createExec().run('node', ['-e', 'process.stdout.write("a b")']);
    expect(r).toMatchObject({ stdout: 'a b', exitCode: 0 });
  });

  it('carries the command, exit code and stderr tail on failure', async () => {
    const err = await createExec()
      .run('node', ['-e', 'console.error("first\\nlast words"); process.exit(3)'])
      .catch((e) => e);
    expect(err).toBeInstanceOf(CommandFailed);
    expect(err.exitCode).toBe(3);
    expect(err.command).toMatch(/^node -e /);
    expect(err.message).toContain('last words');
  });

  it('passes arguments without shell interpretation', async () => {
    const r = await createExec().run('node', ['-e', 'process.stdout.write(process.argv[1])', '$(echo pwned) {{.X}}']);
    expect(r.stdout).toBe('$(echo pwned) {{.X}}');
  });

  it('records calls and answers by longest matching prefix in the fake', async () => {
    const fake = recordingExec({ docker: { stdout: 'generic' }, 'docker info': { stdout: 'info' } });
    expect((await fake.run('docker', ['info', '--format', 'x'])).stdout).toBe('info');
    expect((await fake.run('docker', ['ps'])).stdout).toBe('generic');
    await expect(fake.run('kind', ['version'])).rejects.toMatchObject({ exitCode: 127 });
    expect(fake.calls.map((c) => c.args[0])).toEqual(['info', 'ps', 'version']);
  });
});
