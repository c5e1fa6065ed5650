/**
 * `npm run demo`: starts the four services (each with the OpenTelemetry preload) and the load generator as
 * child processes, serves the control API, and stops everything on Ctrl-C / SIGTERM.
 * Settings: DEMO_* variables (see demo-app/README.md) and the standard OTEL_* variables, passed through.
 */
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readConfig } from './launcher/config.js';
import { createSupervisor } from './launcher/supervisor.js';
import { createScenarioRegistry } from './launcher/scenario-registry.js';
import { createControlApi } from './launcher/control-api.js';
import { launcherLog } from './launcher/log.js';
import { services, serviceUrl } from './lib/topology.js';

const file = (rel) => fileURLToPath(new URL(rel, import.meta.url));
const PRELOAD = file('./telemetry/register.js');

function freePort(host) {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

let config;
try {
  config = readConfig();
} catch (err) {
  launcherLog('error', 'invalid setting', { error: err.message });
  process.exit(2);
}

// Concrete ports for every service, so a restarted child comes back where its callers expect it.
const portEnv = {};
for (const [name, { portEnv: key }] of Object.entries(services)) {
  portEnv[key] = String(config.ports[name] || (await freePort(config.host)));
}

const childEnv = {
  // Defaults a user can override: stable HTTP semconv (already the only mode of instrumentation-http 0.223),
  // and a metric interval short enough for a dashboard to move within seconds.
  OTEL_SEMCONV_STABILITY_OPT_IN: 'http',
  OTEL_METRIC_EXPORT_INTERVAL: '10000',
  ...process.env,
  DEMO_CONTROL_TOKEN: undefined,
  ...portEnv,
  DEMO_HOST: config.host,
};

let shuttingDown;
let loadgenStarted = false;
let announced = false;
const supervisor = createSupervisor({
  onReady(name) {
    supervisor.send({ type: 'scenarios', active: registry.snapshot() }, name);
    if (name === 'storefront' && config.loadRps > 0 && !loadgenStarted) startLoadgen();
    if (supervisor.allReady() && control.listening && !announced) announce();
  },
  onFatal(name, reason) {
    launcherLog('error', 'demo cannot start', { child: name, reason });
    void shutdown(1);
  },
});
const registry = createScenarioRegistry({ onChange: (active) => supervisor.send({ type: 'scenarios', active }) });
const control = createControlApi({ registry, supervisor, token: config.controlToken, allowedHosts: config.allowedHosts });
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

for (const name of Object.keys(services)) {
  supervisor.start({
    name,
    args: [...(config.instrumented ? ['--import', PRELOAD] : []), file(`./services/${name}.js`)],
    env: { ...childEnv, OTEL_SERVICE_NAME: name },
  });
}

function startLoadgen() {
  loadgenStarted = true;
  supervisor.start({
    name: 'loadgen',
    args: [file('./loadgen/loadgen.js')],
    env: { ...childEnv, DEMO_LOAD_TARGET: serviceUrl('storefront', childEnv), DEMO_LOAD_RPS: String(config.loadRps) },
  });
}

await new Promise((resolve, reject) => {
  control.once('error', reject);
  control.listen(config.controlPort, config.host, resolve);
}).then(
  () => supervisor.allReady() && !announced && announce(),
  (err) => {
    launcherLog('error', 'control API cannot listen', { port: config.controlPort, error: err.message });
    return shutdown(1);
  },
);

function announce() {
  announced = true;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  launcherLog('info', 'demo ready', {
    storefront: `http://${host}:${portEnv.DEMO_PORT}`,
    control: `http://${host}:${control.address().port}`,
    load_rps: config.loadRps,
    instrumented: config.instrumented,
  });
}

function shutdown(code) {
  shuttingDown ??= (async () => {
    launcherLog('info', 'stopping the demo');
    if (control.listening) control.close();
    await supervisor.stopAll();
    process.exit(code);
  })();
  return shuttingDown;
}

