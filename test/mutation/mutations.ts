/**
 * The one-line breaks `npm run mutation` applies, one at a time, to a temp copy of the repository; each must make
 * at least one of its tests fail. M1-M20 are the audit's (../shared/reviews/review-tests-2026-11-29.md, M19
 * unused there); X* are further breaks in configs and decision code. `find` must occur exactly once in `file`:
 * when the code moves, update the anchor here (the runner says which one is stale).
 */

export interface Mutation {
  id: string;
  what: string;
  file: string;
  find: string;
  replace: string;
  /** Run `npm run render:committed` after the break, so the drift guard cannot be what catches it. */
  regenerate?: boolean;
  tests: string[];
}

/** Tests that read the configs (correlation, cross-references, the committed renders, the model). */
const configTests = ['test/configs/correlation.test.ts', 'test/configs/cross-refs.test.ts', 'test/render/committed.test.ts', 'test/stack/model.test.ts'];

export const mutations: Mutation[] = [
  {
    id: 'M1',
    what: 'compose status() ignores the readiness probe and reports healthy',
    file: 'scripts/runtimes/compose/status.ts',
    find: "if (r.status !== undefined && r.status >= 200 && r.status < 300) return { name: c.name, state: 'running', health: 'healthy', url };",
    replace: "return { name: c.name, state: 'running', health: 'healthy', url };",
    tests: ['test/runtime/compose/status.test.ts'],
  },
  {
    id: 'M2',
    what: 'any HTTP status (503 included) counts as ready during up',
    file: 'scripts/runtimes/compose/wait.ts',
    find: "if (r.status !== undefined && r.status >= 200 && r.status < 300) return { kind: 'ready' };",
    replace: "if (r.status !== undefined) return { kind: 'ready' };",
    tests: ['test/runtime/compose/diagnose.test.ts', 'test/runtime/compose/status.test.ts'],
  },
  { id: 'M3', what: 'Tempo HTTP port 3200 → 3201 in the model', file: 'scripts/stack/model.ts', find: 'tempo: { http: 3200,', replace: 'tempo: { http: 3201,', tests: ['test/stack/model.test.ts', 'test/stack/readme.test.ts', 'test/configs/cross-refs.test.ts'] },
  { id: 'M4', what: "Tempo's healthcheck dropped", file: 'scripts/stack/model.ts', find: "      healthcheck: ['/tempo', '-health'],\n", replace: '', tests: ['test/render/compose.test.ts', 'test/stack/model.test.ts'] },
  {
    id: 'M5',
    what: "the port check dropped from the compose runtime's preflight",
    file: 'scripts/runtimes/compose/preflight.ts',
    find: "checkConfigFiles(stack, 'compose', { config: configDir, dashboards: dashboardsDir }), ...ports];",
    replace: "checkConfigFiles(stack, 'compose', { config: configDir, dashboards: dashboardsDir })];",
    tests: ['test/runtime/compose/preflight.test.ts'],
  },
  { id: 'M6', what: 'Grafana tracesToLogsV2 removed (renders not regenerated)', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '      tracesToLogsV2:\n', replace: '      tracesToLogsV2Removed:\n', tests: configTests },
  { id: 'M6b', what: 'Grafana tracesToLogsV2 removed, renders regenerated', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '      tracesToLogsV2:\n', replace: '      tracesToLogsV2Removed:\n', regenerate: true, tests: configTests },
  { id: 'M7', what: 'demo metric orders.queue.depth → orders.queue.size', file: 'demo-app/services/orders-fulfilment.js', find: "'orders.queue.depth'", replace: "'orders.queue.size'", tests: ['test/demo-app/telemetry.test.ts'] },
  { id: 'M8', what: "Loki's structured metadata off, renders regenerated", file: 'config/loki/loki.yaml', find: 'allow_structured_metadata: true', replace: 'allow_structured_metadata: false', regenerate: true, tests: configTests },
  { id: 'M9', what: 'metrics-generator without service-graphs, renders regenerated', file: 'config/tempo/tempo.yaml', find: 'processors: [service-graphs, span-metrics]', replace: 'processors: [span-metrics]', regenerate: true, tests: configTests },
  { id: 'M10', what: 'state file written 0644', file: 'scripts/lib/state.ts', find: 'await fh.chmod(0o600);', replace: 'await fh.chmod(0o644);', tests: ['test/lib/state.test.ts'] },
  { id: 'M11', what: 'Alloy exports traces to tempo:4316', file: 'config/alloy/config.alloy', find: 'endpoint = "tempo:4317"', replace: 'endpoint = "tempo:4316"', tests: ['test/configs/cross-refs.test.ts'] },
  { id: 'M12', what: 'crash-loop detection disabled in up', file: 'scripts/runtimes/compose/wait.ts', find: "if (restarts >= 2 || (s.State === 'restarting' && restarts >= 1)) {", replace: 'if (false) {', tests: ['test/runtime/compose/wait.test.ts'] },
  { id: 'M13', what: 'at the deadline every pending component is blamed', file: 'scripts/runtimes/readiness.ts', find: 'const blamed = culprits.length ? culprits : pending;', replace: 'const blamed = pending;', tests: ['test/runtime/readiness.test.ts'] },
  { id: 'M14', what: 'default bind address 0.0.0.0', file: 'scripts/stack/model.ts', find: "const bindAddress = opts.bindAddress ?? '127.0.0.1';", replace: "const bindAddress = opts.bindAddress ?? '0.0.0.0';", tests: ['test/stack/model.test.ts', 'test/render/compose.test.ts'] },
  { id: 'M15', what: 'kind down also deletes secrets', file: 'scripts/runtimes/kind/teardown.ts', find: "'configmaps', 'serviceaccounts', 'roles',", replace: "'configmaps', 'secrets', 'serviceaccounts', 'roles',", tests: ['test/runtime/kind/teardown.test.ts'] },
  {
    id: 'M16',
    what: 'typo in a trace → metrics query (traces_spanmetrics_call_total), renders regenerated',
    file: 'config/grafana/provisioning/datasources/datasources.yaml',
    find: 'query: sum by (span_name) (rate(traces_spanmetrics_calls_total{$$__tags}[5m]))',
    replace: 'query: sum by (span_name) (rate(traces_spanmetrics_call_total{$$__tags}[5m]))',
    regenerate: true,
    tests: configTests,
  },
  { id: 'M17', what: 'logs → trace matcher trace_id → trace_idx, renders regenerated', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: 'matcherRegex: trace_id\n', replace: 'matcherRegex: trace_idx\n', regenerate: true, tests: configTests },
  {
    id: 'M18',
    what: 'Ctrl-C during up no longer removes the containers it started',
    file: 'scripts/runtimes/compose/index.ts',
    find: "      for (const s of steps.values()) s.fail('interrupted');\n",
    replace: "      for (const s of steps.values()) s.fail('interrupted');\n      throw interrupted();\n",
    tests: ['test/runtime/compose/diagnose.test.ts'],
  },
  { id: 'M20', what: 'the kind runtime never loads (auto never picks kind)', file: 'scripts/runtimes/select.ts', find: 'return m.createKindRuntime ?? m.createRuntime;', replace: 'return undefined;', tests: ['test/runtime/select.test.ts'] },

  // Further breaks: correlation settings, backend features, decisions.
  { id: 'X1', what: 'metrics-generator writes native histograms only (no _bucket for the p95 link)', file: 'config/tempo/tempo.yaml', find: 'generate_native_histograms: both', replace: 'generate_native_histograms: native', regenerate: true, tests: configTests },
  { id: 'X2', what: 'metrics-generator storage path removed (generator off)', file: 'config/tempo/tempo.yaml', find: '    path: /var/tempo/generator/wal\n', replace: '', regenerate: true, tests: configTests },
  { id: 'X3', what: 'exemplar destination traceID renamed trace.id', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '        - name: traceID\n', replace: '        - name: trace.id\n', regenerate: true, tests: configTests },
  { id: 'X4', what: 'exemplar destination trace_id leads to Mimir', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '        - name: trace_id\n          datasourceUid: tempo\n', replace: '        - name: trace_id\n          datasourceUid: mimir\n', regenerate: true, tests: configTests },
  { id: 'X5', what: 'trace → logs tag mapped to service (Loki indexes service_name)', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '            value: service_name\n', replace: '            value: service\n', regenerate: true, tests: configTests },
  { id: 'X6', what: 'trace → logs filters the line, not the structured metadata', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '| trace_id = "$${__trace.traceId}"', replace: '|= "$${__trace.traceId}"', regenerate: true, tests: configTests },
  { id: 'X7', what: 'service map reads from Loki', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '      serviceMap:\n        datasourceUid: mimir\n', replace: '      serviceMap:\n        datasourceUid: loki\n', regenerate: true, tests: configTests },
  { id: 'X8', what: 'logs → trace regex wants 33-64 hex digits', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '([0-9a-fA-F]{16,32})', replace: '([0-9a-fA-F]{33,64})', regenerate: true, tests: configTests },
  { id: 'X9', what: 'trace → metrics maps service.name to service_name (span metrics carry service)', file: 'config/grafana/provisioning/datasources/datasources.yaml', find: '            value: service\n        queries:', replace: '            value: service_name\n        queries:', regenerate: true, tests: configTests },
  { id: 'X10', what: 'auto picks kind when kubectl is missing', file: 'scripts/runtimes/select.ts', find: 'if (!k || !kc)', replace: 'if (!k)', tests: ['test/runtime/select.test.ts'] },
  { id: 'X11', what: "the memory check dropped from the compose runtime's preflight", file: 'scripts/runtimes/compose/preflight.ts', find: 'checks.push(checkMemory(stack, d.engine, cx.platform), checkLoopbackIsolation(d.engine),', replace: 'checks.push(checkLoopbackIsolation(d.engine),', tests: ['test/runtime/compose/preflight.test.ts'] },
  { id: 'X12', what: 'kind down keeps the cluster role bindings', file: 'scripts/runtimes/kind/teardown.ts', find: "export const DOWN_CLUSTER_SCOPED = ['clusterroles', 'clusterrolebindings'];", replace: "export const DOWN_CLUSTER_SCOPED = ['clusterroles'];", tests: ['test/runtime/kind/teardown.test.ts'] },
  { id: 'X13', what: 'the load generator stops catching up after a late timer', file: 'demo-app/loadgen/pacer.js', find: 'const n = Math.max(0, total - scheduled);', replace: 'const n = Math.min(1, Math.max(0, total - scheduled));', tests: ['test/demo-app/pacer.test.ts'] },
  // Runtime selection and the engine plan (compose runtime)
  { id: 'X14', what: 'auto picks kind when Docker does not answer', file: 'scripts/runtimes/select.ts', find: 'if (!dockerUp) return', replace: 'if (false) return', tests: ['test/runtime/select.test.ts'] },
  { id: 'X15', what: 'commands after up ignore the recorded kind runtime (status/down talk to compose)', file: 'scripts/runtimes/select.ts', find: "  if (recorded === 'kind') {", replace: "  if (recorded === ('kinds' as RuntimeName)) {", tests: ['test/runtime/select.test.ts'] },
  { id: 'X16', what: 'a remote engine gets a local Docker socket mounted', file: 'scripts/runtimes/engine-plan.ts', find: '  if (isRemote(engine.endpoint)) {\n    return without(', replace: '  if (false) {\n    return without(', tests: ['test/runtime/engine-platforms.test.ts'] },
  { id: 'X17', what: 'SELinux relabelling left on for Podman', file: 'scripts/runtimes/engine-plan.ts', find: "disableSelinuxLabels: engine.product === 'Podman'", replace: 'disableSelinuxLabels: false', tests: ['test/runtime/engine-platforms.test.ts', 'test/runtime/compose/start.test.ts'] },
  // verify: the check graph and Grafana's correlation logic it replays
  { id: 'X18', what: 'verify runs a check whose prerequisite failed', file: 'scripts/verify/runner.ts', find: '      if (blocked.length) {', replace: '      if (false) {', tests: ['test/verify/runner.test.ts'] },
  { id: 'X19', what: 'verify retries a definitive failure until the timeout', file: 'scripts/verify/runner.ts', find: 'if (last.ok || last.final || clock.now() + interval > until) break;', replace: 'if (last.ok || clock.now() + interval > until) break;', tests: ['test/verify/runner.test.ts'] },
  { id: 'X20', what: 'logs → trace: a label matcher reads the log line instead of the structured metadata', file: 'scripts/verify/correlation.ts', find: "    if (f.matcherType === 'label') {", replace: "    if (f.matcherType === ('labels' as string)) {", tests: ['test/verify/correlation.test.ts'] },
  { id: 'X21', what: 'trace → logs ignores filterByTraceID', file: 'scripts/verify/correlation.ts', find: '    if (settings.filterByTraceID) expr += ` |="${span.traceId}"`;\n', replace: '', tests: ['test/verify/correlation.test.ts'] },
  // The demo's fault scenarios (exact effects on a manual clock)
  { id: 'X22', what: 'latency-spike adds half the delay', file: 'demo-app/services/payments-authorize.js', find: 'if (spike) await sim.sleep(spike.delayMs);', replace: 'if (spike) await sim.sleep(spike.delayMs / 2);', tests: ['test/demo-app/scenario-effects.test.ts'] },
  { id: 'X23', what: 'error-burst restarts its error credit at 0 after each failure (fails fewer than rate)', file: 'demo-app/services/payments-authorize.js', find: '    errorCredit -= 1;', replace: '    errorCredit = 0;', tests: ['test/demo-app/scenario-effects.test.ts'] },
  { id: 'X24', what: 'log-flood keeps writing after the stop', file: 'demo-app/services/inventory-log-flood.js', find: '    clock.clearInterval(flood);\n', replace: '', tests: ['test/demo-app/scenario-effects.test.ts'] },
  { id: 'X25', what: 'memory-growth fills one tick late (the heap lags the rate by a second)', file: 'demo-app/services/orders-snapshot-cache.js', find: '(clock.now() - startedAt + FILL_EVERY_MS)', replace: '(clock.now() - startedAt)', tests: ['test/demo-app/scenario-effects.test.ts'] },
  { id: 'X26', what: 'a restarted durationS scenario keeps its first end time', file: 'demo-app/launcher/scenario-registry.js', find: '      clock.clearTimeout(active.get(name)?.timer);\n', replace: '', tests: ['test/demo-app/scenario-effects.test.ts'] },
  { id: 'X30', what: 'the port check trusts the bind alone (no connect test: wildcard listeners on macOS pass)', file: 'scripts/lib/ports.ts', find: '  const answers = await Promise.all(addresses.map((a) => acceptsConnections(a, port)));', replace: '  const answers = [false];', tests: ['test/runtime/ports.test.ts'] },
  { id: 'X31', what: "another engine's port forwarder reported as a process to kill", file: 'scripts/lib/ports.ts', find: "    if (engine) return { kind: 'engine', engine, pid: p.pid, command: p.command };", replace: '', tests: ['test/runtime/ports.test.ts'] },
  { id: 'X32', what: 'programs start in the CLI\'s process group (a stop leaves their children running)', file: 'scripts/lib/exec.ts', find: "      detached: platform !== 'win32',", replace: '      detached: false,', tests: ['test/lib/exec.test.ts'] },
  { id: 'X33', what: 'the compose release requirement ignores what the file uses', file: 'scripts/runtimes/compose-version.ts', find: 'needs.filter((n) => compareVersions(found, n.since) < 0)', replace: 'needs.filter(() => false)', tests: ['test/runtime/preflight.test.ts'] },
  { id: 'X34', what: 'up mounts configs from the package folder again', file: 'scripts/render/compose.ts', find: "paths: { config: './config', dashboards: './dashboards', buildContext: input.buildContext ?? packageRoot },", replace: "paths: { config: packageRoot + '/config', dashboards: packageRoot + '/dashboards', buildContext: input.buildContext ?? packageRoot },", tests: ['test/runtime/compose/start.test.ts'] },
];
