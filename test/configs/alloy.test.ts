/**
 * Alloy configs: every config/alloy/*.alloy parses with our grammar (test/support/alloy.grammar), and the
 * files Alloy loads together on each runtime use only components, arguments and blocks that Alloy v1.18.1
 * has (../shared/reference/alloy-1.18.1-components.json), with every reference pointing at a declared
 * component export. Negative cases prove each check can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildStack, runtimeNames, stackLabel, type RuntimeName } from '../../scripts/stack/model.js';
import { composeDocument } from '../../scripts/render/compose.js';
import { images } from '../../scripts/stack/versions.js';
import { DOCKER_HOST_ENV, SOCKET_PROXY, SOCKET_PROXY_PORT, socketProxyDockerHost } from '../../scripts/stack/socket-proxy.js';
import { parseAlloy, type AlloyBlock, type AlloyFile } from '../support/alloy-grammar.js';
import { skipGroup } from '../support/skips.js';
import { checkAlloy, type AlloyReference } from './alloy-check.js';
import { configDir, referenceDir, sharedAvailable } from './paths.js';

const alloyDir = join(configDir, 'alloy');
const alloyFiles = readdirSync(alloyDir).filter((f) => f.endsWith('.alloy')).sort();
const read = (f: string) => readFileSync(join(alloyDir, f), 'utf8');
const parsed = new Map<string, AlloyFile>(alloyFiles.map((f) => [f, parseAlloy(read(f))]));

/** The files Alloy loads on a runtime: what the model mounts into /etc/alloy there (collectAllLogs picks the discovery file). */
function filesFor(runtime: RuntimeName, collectAllLogs = false): string[] {
  const alloy = buildStack({ collectAllLogs }).components.find((c) => c.name === 'alloy')!;
  return alloy.configFiles
    .filter((f) => !f.runtimes || f.runtimes.includes(runtime))
    .map((f) => f.source.replace(/^alloy\//, ''));
}

describe('Alloy syntax (our lezer grammar)', () => {
  it('finds the config files', () => {
    expect(alloyFiles).toEqual([
      'config.alloy',
      'discovery-docker-all.alloy',
      'discovery-docker-stack.alloy',
      'discovery-kubernetes-all.alloy',
      'discovery-kubernetes-stack.alloy',
      'logs-docker.alloy',
      'logs-kubernetes.alloy',
      'stack-compose.alloy',
      'stack-kubernetes.alloy',
    ]);
  });

  for (const f of alloyFiles) {
    it(`${f} parses with no errors`, () => {
      expect(parsed.get(f)!.errors).toEqual([]);
      expect(parsed.get(f)!.blocks.length).toBeGreaterThan(0);
    });
  }

  it('accepts the syntax Alloy accepts', () => {
    const ok = [
      'a.b "x" { }\n',
      'a.b "x" {}\nc.d "y" { e = 1 }',
      'logging {\n  level  = "info" // trailing comment\n  format = "logfmt"\n}\n',
      'a.b "x" {\n  t = [\n    {"__address__" = "a:1", job = "a"},\n    {c = -1 ^ 2 * 3 + 4 % 2},\n  ]\n  h = {\n    "k" = sys.env("V"),\n  }\n  r = a.b.c.d[0].e\n  s = `raw\nstring`\n  b = true && !false || null == null\n  n = 1.5e3\n}\n',
      '/* block\n comment */\na.b "x" {\n  /* inline */ e = "v" /* after */\n}\n',
      'a.b "x" {\n  e = 1 +\n    2\n  nested {\n    deeper {\n      f = "g"\n    }\n  }\n}\n',
    ];
    for (const text of ok) expect(parseAlloy(text).errors, text).toEqual([]);
  });

  it('rejects what Alloy rejects', () => {
    const bad: Record<string, string> = {
      'missing "}"': 'a.b "x" {\n  e = 1\n',
      'attribute without value': 'logging {\n  level =\n}\n',
      'unquoted label': 'prometheus.scrape demo {\n}\n',
      'pasted YAML': 'server:\n  http_listen_port: 3200\n',
      'two statements on one line': 'a.b "x" {\n  e = 1 f = 2\n}\n',
      'no comma before a line break in a list': 'a.b "x" {\n  e = [\n    1,\n    2\n  ]\n}\n',
      'no comma before a line break in an object': 'a.b "x" {\n  e = {\n    k = 1\n  }\n}\n',
      'block brace on the next line': 'a.b "x"\n{\n}\n',
      'operator at the start of a line': 'a.b "x" {\n  e = 1\n    + 2\n}\n',
      'single-quoted string': "a.b 'x' {\n}\n",
      'label that is not an identifier': 'a.b "logs-docker" {\n}\n',
      'attribute set twice': 'a.b "x" {\n  e = 1\n  e = 2\n}\n',
    };
    for (const [why, text] of Object.entries(bad)) {
      expect(parseAlloy(text).errors.length, why).toBeGreaterThan(0);
    }
  });

  it('extracts blocks, labels, nested blocks, attributes, references and sys.env calls', () => {
    const f = parseAlloy(
      'x.y "l" {\n  targets = a.b.c.out\n  forward_to = [d.e.f.receiver]\n  inner {\n    k = sys.env("K")\n    url = "http://h:1/p"\n  }\n}\n',
    );
    expect(f.errors).toEqual([]);
    const [b] = f.blocks;
    expect(b).toMatchObject({ name: 'x.y', label: 'l' });
    expect(b.attributes.map((a) => a.name)).toEqual(['targets', 'forward_to']);
    expect(b.attributes[0].references.map((r) => r.path)).toEqual(['a.b.c.out']);
    expect(b.attributes[1].references.map((r) => r.path)).toEqual(['d.e.f.receiver']);
    expect(b.blocks[0].name).toBe('inner');
    expect(b.blocks[0].attributes[0].calls).toEqual([{ name: 'sys.env', stringArgs: ['K'], line: 5 }]);
    expect(b.blocks[0].attributes[1].strings).toEqual(['http://h:1/p']);
  });
});

skipGroup('Alloy component checks', sharedAvailable ? undefined : '../shared/reference not found (only present in the project workspace)', { requiredInCI: true });

describe.skipIf(!sharedAvailable)('Alloy components (../shared/reference)', () => {
  const version = images.alloy.tag.replace(/^v/, '');
  const ref = (sharedAvailable
    ? JSON.parse(readFileSync(resolve(referenceDir, `alloy-${version}-components.json`), 'utf8'))
    : { components: {}, config_blocks: {} }) as AlloyReference;

  it('the reference matches the pinned Alloy image', () => {
    expect(Object.keys(ref.components).length).toBeGreaterThan(100);
  });

  it('every Alloy file is loaded on at least one runtime', () => {
    const loaded = new Set(runtimeNames.flatMap((r) => [...filesFor(r), ...filesFor(r, true)]));
    expect(alloyFiles.filter((f) => !loaded.has(f))).toEqual([]);
    for (const f of loaded) expect(alloyFiles).toContain(f);
  });

  for (const runtime of runtimeNames) {
    for (const all of [false, true]) {
      it(`${runtime}${all ? ' (collectAllLogs)' : ''}: the files Alloy loads use only known components, arguments and blocks, and every reference resolves`, () => {
        const files = filesFor(runtime, all).map((name) => ({ name, parsed: parsed.get(name)! }));
        expect(checkAlloy(files, ref)).toEqual([]);
      });
    }
  }

  it('compose collects container logs through the Docker API (the socket proxy), kind collects pod logs through the API', () => {
    const names = (runtime: RuntimeName) =>
      filesFor(runtime).flatMap((f) => parsed.get(f)!.blocks.map((b) => b.name));
    expect(names('compose')).toEqual(expect.arrayContaining(['discovery.docker', 'loki.source.docker']));
    expect(names('compose')).not.toContain('loki.source.kubernetes');
    expect(names('kind')).toEqual(expect.arrayContaining(['discovery.kubernetes', 'loki.source.kubernetes']));
    expect(names('kind')).not.toContain('loki.source.docker');
  });

  const check = (text: string, extra: string[] = []) =>
    checkAlloy(
      [
        { name: 'config.alloy', parsed: parsed.get('config.alloy')! },
        { name: 'stack-compose.alloy', parsed: parsed.get('stack-compose.alloy')! },
        { name: 'case.alloy', parsed: parseAlloy(text) },
        ...extra.map((t, i) => ({ name: `extra${i}.alloy`, parsed: parseAlloy(t) })),
      ],
      ref,
    ).map((p) => p.message);

  it('negative: a typo in an argument name', () => {
    const msgs = check('loki.write "typo" {\n  endpoint {\n    urll = "http://loki:3100/loki/api/v1/push"\n  }\n}\n');
    expect(msgs).toEqual(expect.arrayContaining([expect.stringMatching(/unknown argument urll \(did you mean url\?\)/)]));
    expect(msgs).toEqual(expect.arrayContaining([expect.stringMatching(/missing required argument url/)]));
  });

  it('negative: an unknown component', () => {
    expect(check('otelcol.exporter.otlpgrpc "x" {\n  client {\n    endpoint = "tempo:4317"\n  }\n}\n')).toEqual([
      'unknown component or block otelcol.exporter.otlpgrpc',
    ]);
  });

  it('negative: an unknown nested block and a missing required block', () => {
    const msgs = check('otelcol.exporter.otlp "x" {\n  clinet {\n    endpoint = "tempo:4317"\n  }\n}\n');
    expect(msgs).toEqual(expect.arrayContaining([expect.stringMatching(/unknown block clinet \(did you mean client\?\)/)]));
    expect(msgs).toEqual(expect.arrayContaining([expect.stringMatching(/missing required block client/)]));
  });

  it('negative: a missing required argument', () => {
    expect(check('prometheus.scrape "x" {\n  targets = []\n}\n')).toEqual([
      expect.stringMatching(/prometheus.scrape: missing required argument forward_to/),
    ]);
  });

  it('negative: a syntax error', () => {
    expect(check('prometheus.scrape "x" {\n  targets = [\n    {"__address__" = "a:1"}\n  ]\n  forward_to = []\n}\n')).toEqual([
      expect.stringMatching(/unexpected line break/),
    ]);
  });

  it('negative: references to an undeclared component, a missing export and a wrong type', () => {
    const msgs = check(
      'prometheus.scrape "x" {\n  targets    = discovery.relabel.nope.output\n  forward_to = [prometheus.remote_write.mimir.input]\n}\n' +
        'loki.source.docker "y" {\n  host       = "unix:///var/run/docker.sock"\n  targets    = []\n  forward_to = [prometheus.remote_write.mimir.receiver]\n}\n',
    );
    expect(msgs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/discovery.relabel.nope.output: no discovery.relabel "nope" is declared/),
        expect.stringMatching(/prometheus.remote_write.mimir.input: prometheus.remote_write has no export input \(exports: receiver\)/),
        expect.stringMatching(/forward_to expects list\(LogsReceiver\), got a reference of type MetricsReceiver/),
      ]),
    );
  });

  it('negative: the same component label declared in two files, and a non-GA component', () => {
    const msgs = check('loki.write "loki" {\n  endpoint {\n    url = "http://loki:3100/loki/api/v1/push"\n  }\n}\n');
    expect(msgs).toEqual([expect.stringMatching(/loki.write "loki" is also declared in config.alloy/)]);
    const experimental = Object.entries(ref.components).find(([, c]) => c.stability === 'experimental')![0];
    expect(check(`${experimental} "x" {\n}\n`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/is experimental; Alloy refuses it/)]),
    );
  });
});

describe('log collection scope (security review F6)', () => {
  const block = (file: string, name: string) => parsed.get(file)!.blocks.find((b) => b.name === name)!;
  const attr = (b: AlloyBlock, name: string) => b.attributes.find((a) => a.name === name);

  it('by default Alloy loads the discovery that asks Docker only for this stack\'s labelled containers', () => {
    const compose = filesFor('compose');
    expect(compose).toContain('discovery-docker-stack.alloy');
    expect(compose).not.toContain('discovery-docker-all.alloy');
    const discovery = block('discovery-docker-stack.alloy', 'discovery.docker');
    const filters = discovery.blocks.filter((b) => b.name === 'filter');
    expect(filters).toHaveLength(1);
    expect(attr(filters[0], 'name')!.strings).toEqual(['label']);
    // "<stackLabel>=" + sys.env("MOP_STACK_ID"): the label the compose render puts on every container of the stack.
    const values = attr(filters[0], 'values')!;
    expect(values.strings[0]).toBe(`${stackLabel}=`);
    expect(values.value.replace(/\s+/g, ' ')).toBe(`["${stackLabel}=" + sys.env("MOP_STACK_ID")]`);
    expect(values.calls.map((c) => [c.name, c.stringArgs])).toEqual([['sys.env', ['MOP_STACK_ID']]]);
  });

  it('Alloy reaches the Docker API only at the socket proxy, over tcp:// (an http:// host gets a timeout that would cut follow streams)', () => {
    const hosts = [
      attr(block('discovery-docker-stack.alloy', 'discovery.docker'), 'host')!,
      attr(block('discovery-docker-all.alloy', 'discovery.docker'), 'host')!,
      attr(block('logs-docker.alloy', 'loki.source.docker'), 'host')!,
    ];
    for (const h of hosts) expect(h.value).toBe(`sys.env("${DOCKER_HOST_ENV}")`);
    expect(socketProxyDockerHost).toBe(`tcp://${SOCKET_PROXY}:${SOCKET_PROXY_PORT}`);
    const doc = composeDocument(buildStack());
    expect(doc.services.alloy.environment![DOCKER_HOST_ENV]).toBe(socketProxyDockerHost);
    expect(doc.services[SOCKET_PROXY].environment!.MOP_SOCKET_PROXY_PORT).toBe(String(SOCKET_PROXY_PORT));
  });

  it('the compose render gives Alloy its project as MOP_STACK_ID and puts the same label on every service', () => {
    const doc = composeDocument(buildStack({ demo: true }), { projectName: 'proj-a' });
    expect(doc.services.alloy.environment!.MOP_STACK_ID).toBe('proj-a');
    for (const [name, svc] of Object.entries(doc.services)) expect(svc.labels[stackLabel], name).toBe('proj-a');
  });

  it('on kind Alloy discovers only its own namespace by default', () => {
    const kind = filesFor('kind');
    expect(kind).toContain('discovery-kubernetes-stack.alloy');
    expect(kind).not.toContain('discovery-kubernetes-all.alloy');
    const ns = block('discovery-kubernetes-stack.alloy', 'discovery.kubernetes').blocks.find((b) => b.name === 'namespaces')!;
    expect(ns.attributes.find((a) => a.name === 'own_namespace')!.value).toBe('true');
  });

  it('collecting everything is an opt-in that loads the unfiltered discovery instead', () => {
    expect(filesFor('compose', true)).toContain('discovery-docker-all.alloy');
    expect(filesFor('compose', true)).not.toContain('discovery-docker-stack.alloy');
    expect(block('discovery-docker-all.alloy', 'discovery.docker').blocks.filter((b) => b.name === 'filter')).toEqual([]);
    expect(filesFor('kind', true)).toContain('discovery-kubernetes-all.alloy');
  });
});
