/** What every compose stage works with (scripts/runtimes/compose/context.ts): the project name, credentials, the probe host. */
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../scripts/lib/errors.js';
import { credentialEnv, probeHost, projectName } from '../../../scripts/runtimes/compose/context.js';
import { credentials } from './world.js';

describe('compose runtime: names and settings', () => {
  it('uses MOP_PROJECT or mop-sandbox, and rejects names compose would refuse', () => {
    expect(projectName({})).toBe('mop-sandbox');
    expect(projectName({ MOP_PROJECT: 'mopt-a_1' })).toBe('mopt-a_1');
    expect(() => projectName({ MOP_PROJECT: 'Bad Name' })).toThrow(UserError);
  });

  it('hands credentials to compose as MOP_* variables, the names the renderer requires', () => {
    expect(credentialEnv(credentials)).toMatchObject({ MOP_GRAFANA_ADMIN_PASSWORD: 'pw-secret-1', MOP_S3_ACCESS_KEY_ID: 'mopkey', MOP_S3_SECRET_ACCESS_KEY: 'sk-secret-2', MOP_DEMO_CONTROL_TOKEN: 'tok-secret-3', MOP_S3_TEMPO_ACCESS_KEY_ID: 's3-tempo-acc' });
    expect(Object.keys(credentialEnv(credentials))).toHaveLength(Object.keys(credentials).length);
  });

  it('probes published ports on loopback, or on the remote engine host', () => {
    expect(probeHost({ host: 'unix:///var/run/docker.sock', source: 'default' }, '127.0.0.1')).toBe('127.0.0.1');
    expect(probeHost({ host: 'unix:///var/run/docker.sock', source: 'default' }, '0.0.0.0')).toBe('127.0.0.1');
    expect(probeHost({ host: 'tcp://10.1.2.3:2375', source: 'DOCKER_HOST' }, '127.0.0.1')).toBe('10.1.2.3');
  });
});
