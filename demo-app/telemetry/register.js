/**
 * Preloaded with `node --import ./demo-app/telemetry/register.js services/<name>.js`.
 * In ESM, node:http is only patched if the import-in-the-middle hook is registered before the service's
 * own imports are loaded, which is what --import guarantees. Everything else is configured by OTEL_* env.
 */
import { register } from 'node:module';
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';

// Only node:http/https need patching; wrapping every other ESM module would only cost start-up time.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { include: ['http', 'https'] } });

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// Defaults only: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES override them (the env detector is merged last).
const defaults = resourceFromAttributes({
  'service.name': basename(process.argv[1] ?? 'demo', '.js'),
  'service.namespace': 'mop-demo',
  'service.version': version,
  'deployment.environment': 'local',
  // One id per process (semconv: a UUID); Mimir's OTLP translator turns it into the `instance` label, which the
  // dashboards' Instance variable lists.
  'service.instance.id': randomUUID(),
});

const sdk = new NodeSDK({
  resource: defaultResource().merge(defaults),
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();

let stopping = false;
async function flushAndExit() {
  if (stopping) return;
  stopping = true;
  // An unreachable collector must not keep a stopping service alive.
  const timer = setTimeout(() => process.exit(0), 3_000);
  timer.unref();
  try {
    await sdk.shutdown();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', flushAndExit);
process.on('SIGINT', flushAndExit);
