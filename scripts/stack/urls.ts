/** Every address of the stack on this machine, derived from the model's published ports (never a literal). */
import { component, urlHost, type ComponentName, type PublishedPort, type Stack } from './model.js';

/** The port a person opens: the one named "http" (Alloy's UI, not its OTLP/HTTP port), else the first http port. */
export function uiPort(stack: Stack, name: ComponentName): PublishedPort | undefined {
  const mine = stack.published.filter((p) => p.component === name && p.protocol === 'http');
  return mine.find((p) => p.name === 'http') ?? mine[0];
}

/** The URL a person opens for a component, from the model (the runtime reports the actually bound port in `status`). */
export function uiUrl(stack: Stack, name: ComponentName): string | undefined {
  const p = uiPort(stack, name);
  if (!p) return undefined;
  return `${endpointUrl(stack, name, p.name)}${component(stack, name)?.uiPath ?? '/'}`;
}

/** `http://host:port` of a component's published port by name (e.g. demo "control", alloy "otlp-http"), from the model. */
export function endpointUrl(stack: Stack, name: ComponentName, port: string): string | undefined {
  const p = stack.published.find((x) => x.component === name && x.name === port);
  if (!p) return undefined;
  return `http://${urlHost(p.hostIp)}:${p.hostPort}`;
}
