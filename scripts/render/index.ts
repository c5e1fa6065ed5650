/**
 * A complete render for one runtime: every file a person needs to run the stack by hand.
 *   compose: docker-compose.yml, .env (0600), config/ and dashboards/ copies, README.txt
 *   kind:    kind-cluster.yaml, manifests/NN-*.yaml (the Secret 0600), README.txt
 */
import type { Credentials } from '../lib/state.js';
import { packageRoot } from '../lib/paths.js';
import { COMPONENT_LABEL, OWNER_LABEL, secretNames, type RuntimeName, type Stack } from '../stack/model.js';
import { defaultSources, GENERATED, secretEnvName, SECRET_NAME, type RenderFile, type SourceDirs } from './common.js';
import { composeRenderFiles } from './compose.js';
import { renderKindConfig } from './kind.js';
import { kubernetesFiles } from './kubernetes.js';

export type { RenderFile, SourceDirs } from './common.js';

export interface RenderInput {
  runtime: RuntimeName;
  stack: Stack;
  credentials: Credentials;
  /** The output directory (absolute), named in README instructions. */
  outDir: string;
  projectName?: string;
  startInterval?: boolean;
  sources?: SourceDirs;
}

function urls(stack: Stack): string[] {
  return stack.published
    .filter((p) => p.protocol === 'http' || p.protocol === 's3')
    .map((p) => `  ${`${p.component} ${p.name}`.padEnd(22)} http://${p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp}:${p.hostPort}`);
}

function composeReadme(input: RenderInput): string {
  const f = `${input.outDir}/docker-compose.yml`;
  return [
    `${GENERATED}.`,
    `mop-sandbox, profile ${input.stack.profile.name}, object store ${input.stack.store}, for docker compose v2.`,
    '',
    'Start:   docker compose -f ' + f + ' up -d --wait',
    'Status:  docker compose -f ' + f + ' ps',
    'Stop:    docker compose -f ' + f + ' down        (add -v to delete the data volumes)',
    '',
    '.env (mode 0600) holds the credentials the compose file requires; Grafana user: admin, password: GRAFANA_ADMIN_PASSWORD.',
    'config/ and dashboards/ are copies of the files the compose file mounts; edit them here and restart the service.',
    '',
    'URLs:',
    ...urls(input.stack),
    '',
  ].join('\n');
}

export function kindReadme(
  stack: Stack,
  opts: { dir: string; secret: 'included' | 'create'; root: string; envFile?: string; cluster?: string },
): string {
  const cluster = opts.cluster ?? 'mop-sandbox';
  const demo = stack.components.find((c) => c.build);
  const ns = stack.profile.namespace;
  const steps: string[] = [];
  let n = 1;
  steps.push(`${n++}. Create the cluster (kind v0.33.0; every host port listens on ${stack.bindAddress} only):`, `     kind create cluster --config ${opts.dir}/kind-cluster.yaml`);
  if (demo) {
    steps.push(
      `${n++}. Build the demo image and load it into the cluster:`,
      `     docker build -t ${demo.image} -f ${opts.root}/${demo.build!.dockerfile} ${opts.root}`,
      `     kind load docker-image ${demo.image} --name ${cluster}`,
    );
  }
  if (opts.secret === 'create') {
    steps.push(
      `${n++}. Create the namespace and the credentials Secret (keys: ${secretNames.map(secretEnvName).join(', ')}):`,
      `     kubectl apply -f ${opts.dir}/manifests/00-namespace.yaml`,
      `     kubectl -n ${ns} create secret generic ${SECRET_NAME} --from-env-file=${opts.envFile}`,
      `   ${opts.envFile} is written by \`npm run render:committed -- --env\` (from your mop-sandbox credentials),`,
      '   or write it yourself: one NAME=value line per key, mode 0600.',
    );
  }
  steps.push(
    `${n++}. Apply everything (files apply in name order: Namespace first${opts.secret === 'included' ? ', then the Secret with your credentials' : ''}):`,
    `     kubectl apply -f ${opts.dir}/manifests`,
    `${n++}. Wait until everything is ready:`,
    ...stack.components.filter((c) => c.oneShot).map((c) => `     kubectl -n ${ns} wait --for=condition=complete job/${c.name} --timeout=10m`),
    // A finished job's pod never turns Ready, and `kubectl wait` would wait for it until the timeout.
    `     kubectl -n ${ns} wait --for=condition=Ready pods -l '${readySelector(stack)}' --timeout=10m`,
  );
  return [
    `${GENERATED}.`,
    `mop-sandbox, profile ${stack.profile.name}, namespace ${ns}, object store ${stack.store}, for kind.`,
    '',
    ...steps,
    '',
    `Grafana user: admin, password: the ${secretEnvName('GRAFANA_ADMIN_PASSWORD')} value${opts.secret === 'included' ? ' in manifests/02-secret.yaml (mode 0600)' : ''}.`,
    'URLs:',
    ...urls(stack),
    '',
    `Remove: kind delete cluster --name ${cluster}   (or: kubectl delete -f ${opts.dir}/manifests, which keeps the cluster)`,
    '',
  ].join('\n');
}

/** Our pods except those of one-shot jobs (a completed pod stays Ready=False). */
function readySelector(stack: Stack): string {
  const jobs = stack.components.filter((c) => c.oneShot).map((c) => c.name);
  return `${OWNER_LABEL.key}=${OWNER_LABEL.value}${jobs.length ? `,${COMPONENT_LABEL} notin (${jobs.join(',')})` : ''}`;
}

export function renderFiles(input: RenderInput): RenderFile[] {
  const sources = input.sources ?? defaultSources();
  if (input.runtime === 'compose') {
    return [
      ...composeRenderFiles({ stack: input.stack, credentials: input.credentials, projectName: input.projectName, startInterval: input.startInterval, sources }),
      { path: 'README.txt', content: composeReadme(input) },
    ];
  }
  return [
    { path: 'kind-cluster.yaml', content: renderKindConfig(input.stack, { name: input.projectName }) },
    ...kubernetesFiles(input.stack, { credentials: input.credentials, sources }),
    { path: 'README.txt', content: kindReadme(input.stack, { dir: input.outDir, secret: 'included', root: packageRoot, cluster: input.projectName }) },
  ];
}
