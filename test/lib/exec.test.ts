import { afterEach, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { CANNOT_RUN_EXIT, CommandFailed, createExec, INTERRUPTED_EXIT, killTree, NOT_FOUND_EXIT, resolveProgram, TIMEOUT_EXIT } from '../../scripts/lib/exec.js';
import { recordingExec } from '../support/fake-exec.js';
import { isAlive } from '../support/processes.js';

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

  it('reports a program that is not on PATH as exit 127, saying so (no shell to say it for us)', async () => {
    const r = await createExec().run('mop-no-such-program', ['x'], { allowFail: true });
    expect(r).toEqual({ stdout: '', stderr: 'mop-no-such-program: not found on PATH', exitCode: NOT_FOUND_EXIT });
  });

  // A program that starts a grandchild, prints both pids, then waits: stopping it must stop the grandchild too.
  const parentWithGrandchild = [
    '-e',
    "const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(process.pid + ' ' + c.pid); setInterval(() => {}, 1000);",
  ];
  // When the behaviour under test is broken the grandchild outlives the test: never leave it behind.
  const started: number[] = [];
  afterEach(() => {
    for (const pid of started.splice(0)) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const gone = async (pid: number) => {
    for (let i = 0; i < 200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 25));
    return !isAlive(pid);
  };

  it('an abort stops the process and what it started, streaming stdout until then', async () => {
    const ac = new AbortController();
    let pids: number[] = [];
    const r = await createExec().run(process.execPath, parentWithGrandchild, {
      allowFail: true,
      signal: ac.signal,
      onStdout: (chunk) => {
        pids = chunk.trim().split(' ').map(Number);
        started.push(...pids);
        ac.abort();
      },
    });
    expect(r.exitCode).toBe(INTERRUPTED_EXIT);
    expect(pids).toHaveLength(2);
    expect(await gone(pids[0])).toBe(true);
    expect(await gone(pids[1])).toBe(true);
  });

  it('a timeout stops the process tree and says so in stderr', async () => {
    const r = await createExec().run(process.execPath, parentWithGrandchild, { allowFail: true, timeoutMs: 1000 });
    expect(r.exitCode).toBe(TIMEOUT_EXIT);
    expect(r.stderr).toContain('stopped after 1s without finishing');
    const [, grandchild] = r.stdout.trim().split(' ').map(Number);
    started.push(grandchild);
    expect(await gone(grandchild)).toBe(true);
  });

  it('passes input on stdin', async () => {
    const r = await createExec().run(process.execPath, ['-e', 'process.stdin.pipe(process.stdout)'], { input: 'héllo wörld' });
    expect(r.stdout).toBe('héllo wörld');
  });

  it('on Windows stops the tree with taskkill /T /F (Windows has no process groups to signal)', () => {
    const calls: { file: string; args: readonly string[] }[] = [];
    const start = ((file: string, args: readonly string[]) => {
      calls.push({ file, args });
      return new EventEmitter();
    }) as unknown as Parameters<typeof killTree>[2];
    const child = { pid: 4242, exitCode: null, signalCode: null, kill: () => true, once: () => child } as unknown as Parameters<typeof killTree>[0];
    killTree(child, 'win32', start);
    expect(calls).toHaveLength(1);
    expect(calls[0].file).toMatch(/taskkill\.exe$/);
    expect(calls[0].args).toEqual(['/pid', '4242', '/T', '/F']);
    // A process that has exited is left alone (its pid may already belong to another program).
    killTree({ ...child, exitCode: 0 } as Parameters<typeof killTree>[0], 'win32', start);
    expect(calls).toHaveLength(1);
  });

  it('on Windows resolves the program with PATHEXT and refuses batch files, which need a shell', async () => {
    const which = async (bin: string) => ({ docker: 'C:\\Program Files\\Docker\\docker.exe', kind: 'C:\\tools\\kind.cmd' })[bin] ?? null;
    expect(await resolveProgram('docker', 'win32', which)).toBe('C:\\Program Files\\Docker\\docker.exe');
    await expect(resolveProgram('kind', 'win32', which)).rejects.toThrow(/kind\.cmd is a batch file.*without a shell/);
    expect(await resolveProgram('kubectl', 'win32', which)).toBe('kubectl');
    expect(await resolveProgram('docker', 'darwin', which)).toBe('docker');
    // Through run: a result (exit 126, the reason in stderr) or a CommandFailed, like any program that fails.
    const exec = createExec('win32', which);
    expect(await exec.run('kind', ['version'], { allowFail: true })).toEqual({ stdout: '', stderr: expect.stringMatching(/kind\.cmd is a batch file/), exitCode: CANNOT_RUN_EXIT });
    await expect(exec.run('kind', ['version'])).rejects.toMatchObject({ name: 'CommandFailed', exitCode: CANNOT_RUN_EXIT });
  });

  it('records calls and answers by longest matching prefix in the fake', async () => {
    const fake = recordingExec({ docker: { stdout: 'generic' }, 'docker info': { stdout: 'info' } });
    expect((await fake.run('docker', ['info', '--format', 'x'])).stdout).toBe('info');
    expect((await fake.run('docker', ['ps'])).stdout).toBe('generic');
    await expect(fake.run('kind', ['version'])).rejects.toMatchObject({ exitCode: 127 });
    expect(fake.calls.map((c) => c.args[0])).toEqual(['info', 'ps', 'version']);
  });
});
