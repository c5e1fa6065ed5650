/**
 * The demo services, their port variables and the order the launcher starts them in.
 * Internal calls go to DEMO_HOST, or to loopback when it is a wildcard address (the Docker image).
 */
export const services = {
  inventory: { portEnv: 'DEMO_INVENTORY_PORT', defaultPort: 8093 },
  payments: { portEnv: 'DEMO_PAYMENTS_PORT', defaultPort: 8092 },
  orders: { portEnv: 'DEMO_ORDERS_PORT', defaultPort: 8091 },
  storefront: { portEnv: 'DEMO_PORT', defaultPort: 8090 },
};

export function listenHost(env = process.env) {
  return env.DEMO_HOST || '127.0.0.1';
}

function callHost(env) {
  const host = listenHost(env);
  return host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
}

export function servicePort(name, env = process.env) {
  const { portEnv, defaultPort } = services[name];
  return Number(env[portEnv] || defaultPort);
}

export function serviceUrl(name, env = process.env) {
  const host = callHost(env);
  return `http://${host.includes(':') ? `[${host}]` : host}:${servicePort(name, env)}`;
}
