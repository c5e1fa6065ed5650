/**
 * The launcher's settings, all from the environment. Port 0 means "pick a free port" (tests use it);
 * the launcher then hands the concrete port to every child.
 */
import { services } from '../lib/topology.js';

function number(env, key, fallback, { min, max }) {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`${key}=${raw} is not a number from ${min} to ${max}`);
  return n;
}

export function readConfig(env = process.env) {
  const port = (key, fallback) => number(env, key, fallback, { min: 0, max: 65535 });
  const instrumentation = (env.DEMO_INSTRUMENTATION ?? 'on').toLowerCase();
  if (!['on', 'off'].includes(instrumentation)) throw new Error(`DEMO_INSTRUMENTATION=${env.DEMO_INSTRUMENTATION} must be on or off`);
  return {
    host: env.DEMO_HOST || '127.0.0.1',
    controlPort: port('DEMO_CONTROL_PORT', 8099),
    ports: Object.fromEntries(Object.entries(services).map(([name, s]) => [name, port(s.portEnv, s.defaultPort)])),
    loadRps: number(env, 'DEMO_LOAD_RPS', 5, { min: 0, max: 2_000 }),
    instrumented: instrumentation === 'on',
    // Set by mop-sandbox (a generated credential); without it (`npm run demo`) the Host, Origin and JSON checks still apply.
    controlToken: env.DEMO_CONTROL_TOKEN || undefined,
    // Host names the control API answers to besides IP addresses and localhost: the compose service name.
    allowedHosts: (env.DEMO_ALLOWED_HOSTS ?? 'demo').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
  };
}
