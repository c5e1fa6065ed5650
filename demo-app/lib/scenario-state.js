/**
 * A service's view of the active fault scenarios. The launcher pushes the full set over the IPC channel
 * (no HTTP, so switching scenarios adds no spans of its own).
 */

/** One view of the active set; the services share `scenarioState`, tests make their own. */
export function createScenarioState() {
  const active = new Map();
  const listeners = new Set();
  return {
    /** Parameters of the scenario if it is active, else undefined. */
    params: (name) => active.get(name),
    names: () => [...active.keys()],
    /** Called with (name, params|undefined) whenever a scenario starts, changes or stops. */
    onChange(listener) {
      listeners.add(listener);
    },
    /** Replaces the active set. */
    apply(next) {
      const names = new Set([...active.keys(), ...Object.keys(next)]);
      for (const name of names) {
        const before = active.get(name);
        const after = next[name];
        if (JSON.stringify(before) === JSON.stringify(after)) continue;
        if (after) active.set(name, after);
        else active.delete(name);
        for (const l of listeners) l(name, after);
      }
    },
  };
}

/** @typedef {ReturnType<typeof createScenarioState>} ScenarioState */

export const scenarioState = createScenarioState();
export const scenarioParams = scenarioState.params;
export const onScenarioChange = scenarioState.onChange;

process.on('message', (msg) => {
  if (msg && msg.type === 'scenarios') scenarioState.apply(msg.active ?? {});
});
