/**
 * Grafana's settings in the stack model: who can follow the correlations, and where Grafana's own links point.
 */
import { describe, expect, it } from 'vitest';
import { buildStack, component } from '../../scripts/stack/model.js';
import { profileNames, profiles } from '../../scripts/stack/profiles.js';

const grafanaEnv = (opts: Parameters<typeof buildStack>[0]) => component(buildStack(opts), 'grafana')!.env;

describe('Grafana access', () => {
  it.each(profileNames)('%s: an anonymous visitor is a Viewer who can open Explore (every correlation is an Explore link), or nobody', (profile) => {
    const env = grafanaEnv({ profile, s3Endpoint: 's3.example.com:443' });
    const anonymous = profiles[profile].grafanaAnonymousViewer;
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe(String(anonymous));
    // Never more than Viewer: Editor could save dashboards and manage alerting.
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
    // Explore for Viewers (pkg/api/accesscontrol.go: fixed:datasources:explorer gains Viewer with ViewersCanEdit).
    expect(env.GF_USERS_VIEWERS_CAN_EDIT).toBe(String(anonymous));
  });

  it('prod is login-only', () => {
    expect(profiles.prod.grafanaAnonymousViewer).toBe(false);
    expect(profiles.default.grafanaAnonymousViewer && profiles.dev.grafanaAnonymousViewer).toBe(true);
  });

  it('never downloads plugins at start (that can unload the bundled Prometheus, Tempo and Loki datasources)', () => {
    for (const profile of profileNames) {
      const env = grafanaEnv({ profile, s3Endpoint: 's3.example.com:443' });
      expect(env.GF_PLUGINS_PREINSTALL_DISABLED).toBe('true');
      expect(Object.keys(env).filter((k) => /^GF_(PLUGINS_PREINSTALL$|PLUGINS_PREINSTALL_SYNC|INSTALL_PLUGINS)/.test(k))).toEqual([]);
      expect(env.GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED).toBe('true');
      expect(env.GF_SECURITY_DISABLE_GRAVATAR).toBe('true');
    }
  });
});

describe('Grafana root URL', () => {
  it('is where the browser reaches Grafana, not the profile domain', () => {
    expect(grafanaEnv({}).GF_SERVER_ROOT_URL).toBe('http://127.0.0.1:3000/');
  });

  it('follows a moved host port and bind address', () => {
    expect(grafanaEnv({ hostPorts: { 'grafana.http': 3001 } }).GF_SERVER_ROOT_URL).toBe('http://127.0.0.1:3001/');
    expect(grafanaEnv({ bindAddress: '0.0.0.0' }).GF_SERVER_ROOT_URL).toBe('http://127.0.0.1:3000/');
    expect(grafanaEnv({ bindAddress: '::1' }).GF_SERVER_ROOT_URL).toBe('http://[::1]:3000/');
  });
});
