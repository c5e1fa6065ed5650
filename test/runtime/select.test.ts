import { describe, expect, it } from 'vitest';
import { recordingExec } from '../support/fake-exec.js';
import { hasDisplay, parseDuration } from '../../scripts/commands/_shared.js';
import { parseRuntimeChoice, runtimeFor, selectRuntime } from '../../scripts/runtimes/select.js';
import { fakeDocker } from './fakes.js';

const env = { MOP_PROJECT: 'sel', MOP_STATE_DIR: '/tmp/mop-select-test' };

describe('runtime selection', () => {
  it('accepts auto, compose and kind only', () => {
    expect(parseRuntimeChoice(undefined)).toBe('auto');
    expect(parseRuntimeChoice('compose')).toBe('compose');
    expect(() => parseRuntimeChoice('swarm')).toThrow(/unknown runtime "swarm"/);
  });

  it('auto picks compose when kind or kubectl is missing, and says why', async () => {
    const s = await selectRuntime('auto', { exec: recordingExec({}, ['docker', 'kubectl']), env, docker: fakeDocker().docker });
    expect(s.runtime.name).toBe('compose');
    expect(s.reason).toBe('auto: kind is not installed');
    const noKubectl = await selectRuntime('auto', { exec: recordingExec({}, ['docker', 'kind']), env, docker: fakeDocker().docker });
    expect(noKubectl.runtime.name).toBe('compose');
    expect(noKubectl.reason).toBe('auto: kubectl is not installed');
  });

  it('auto picks compose when Docker does not answer', async () => {
    const { docker } = fakeDocker({ unreachable: Object.assign(new Error('ENOENT'), { code: 'ENOENT' }) });
    const s = await selectRuntime('auto', { exec: recordingExec({}, ['docker', 'kind', 'kubectl']), env, docker });
    expect(s.runtime.name).toBe('compose');
  });

  it('auto picks kind when kind and kubectl are installed and Docker runs', async () => {
    const s = await selectRuntime('auto', { exec: recordingExec({}, ['docker', 'kind', 'kubectl']), env, docker: fakeDocker().docker });
    expect(s.runtime.name).toBe('kind');
    expect(s.reason).toBe('auto: kind and kubectl are installed and Docker runs');
  });

  it('--runtime kind gives the kind runtime without looking for the tools (its preflight does that)', async () => {
    const exec = recordingExec();
    const s = await selectRuntime('kind', { exec, env, docker: fakeDocker().docker });
    expect(s).toMatchObject({ runtime: { name: 'kind' }, reason: 'chosen with --runtime' });
    expect(exec.calls).toEqual([]);
    expect((await runtimeFor('kind', { exec, env })).name).toBe('kind');
  });

  it('--runtime compose needs nothing else; later commands use the recorded runtime', async () => {
    expect((await selectRuntime('compose', { exec: recordingExec(), env })).runtime.name).toBe('compose');
    expect((await runtimeFor(undefined, { exec: recordingExec(), env })).name).toBe('compose');
  });
});

describe('session helpers', () => {
  it('parses --timeout as seconds or with a unit', () => {
    expect(parseDuration('30', '--timeout')).toBe(30_000);
    expect(parseDuration('2m', '--timeout')).toBe(120_000);
    expect(parseDuration(undefined, '--timeout')).toBeUndefined();
    expect(() => parseDuration('soon', '--timeout')).toThrow(/not a duration/);
  });

  it('opens a browser only where there is a display', () => {
    expect(hasDisplay({ CI: 'true', DISPLAY: ':0' }, 'linux')).toBe(false);
    expect(hasDisplay({ DISPLAY: ':0' }, 'linux')).toBe(true);
    expect(hasDisplay({ WAYLAND_DISPLAY: 'wayland-0' }, 'linux')).toBe(true);
    expect(hasDisplay({}, 'darwin')).toBe(true);
    expect(hasDisplay({ SSH_CONNECTION: '1.2.3.4 5 6.7.8.9 22' }, 'darwin')).toBe(false);
    expect(hasDisplay({}, 'win32')).toBe(true);
  });
});
