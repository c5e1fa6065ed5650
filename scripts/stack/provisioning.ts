/**
 * What Grafana is provisioned with, read from the files it is given (the datasources file the model mounts, the
 * dashboards folder), so `verify` checks exactly what was provisioned without repeating a uid.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { configDir, dashboardsDir } from '../lib/paths.js';
import { component, type Stack } from './model.js';

export interface ProvisionedDatasource {
  uid: string;
  type: string;
  name: string;
}

export function provisionedDatasources(stack: Stack): ProvisionedDatasource[] {
  const files = (component(stack, 'grafana')?.configFiles ?? []).filter((f) => f.target.includes('/provisioning/datasources/'));
  return files.flatMap((f) => {
    const doc = parse(readFileSync(join(configDir, f.source), 'utf8')) as { datasources?: { uid: string; type: string; name: string }[] };
    return (doc.datasources ?? []).map((d) => ({ uid: d.uid, type: d.type, name: d.name }));
  });
}

export function provisionedDashboards(dir = dashboardsDir): { uid: string; title: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { uid?: string; title?: string })
    .filter((d) => d.uid)
    .map((d) => ({ uid: d.uid!, title: d.title ?? d.uid! }));
}
