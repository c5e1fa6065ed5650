/**
 * A service's view of the active fault scenarios. The launcher pushes the full set over the IPC channel
 * (no HTTP, so switching scenarios adds no spans of its own).
 */
const active = new Map();
const listeners = new Set();

/** Parameters of the scenario if it is active, else undefined. */
export function scenarioParams(name) {
  return active.get(name);
}

export function activeScenarioNames() {
  return [...active.keys()];
}

/** Called with (name, params|undefined) whenever a scenario starts, changes or stops. */
export function onScenarioChange(listener) {
  listeners.add(listener);
}

/** Replaces the active set; exported for tests of a single service without the launcher. */
export function applyScenarios(next) {
  const names = new Set([...active.keys(), ...Object.keys(next)]);
  for (const name of names) {
    const before = active.get(name);
    const after = next[name];
    if (JSON.stringify(before) === JSON.stringify(after)) continue;
    if (after) active.set(name, after);
    else active.delete(name);
    for (const l of listeners) l(name, after);
  }
}

process.on('message', (msg) => {
  if (msg && msg.type === 'scenarios') applyScenarios(msg.active ?? {});
});
