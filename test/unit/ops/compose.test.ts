/**
 * The reference region (deploy/region/): the Compose file's structure (no Docker engine runs
 * here, so it is parsed and checked: engines, nodes with their own NODE_ID and media range,
 * drains given longer than DRAIN_GRACE, nginx in front), each node's settings accepted by the
 * real config loader, the settings template, and the systemd drop-in for a node. The YAML is read
 * by a small parser of the subset the file keeps to (it refuses anything else).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseDuration } from '../../../config/load.js';
import { settings } from '../../../config/settings.js';
import { projectRoot } from '../../../server/paths.js';

type Yaml = string | Yaml[] | { [key: string]: Yaml };
const read = (rel: string) => readFileSync(path.join(projectRoot, rel), 'utf8');

/**
 * Block maps, block lists (of scalars or maps) and plain or quoted scalars: the subset compose.yaml
 * keeps to. Flow collections, anchors, tags, block scalars and inline comments are refused, so
 * the file cannot drift into what this parser would misread.
 */
function parseYaml(text: string): Yaml {
  const lines = text.split('\n')
    .map((raw, n) => ({ n: n + 1, indent: raw.length - raw.trimStart().length, text: raw.trim() }))
    .filter((l) => l.text && !l.text.startsWith('#'));
  let i = 0;
  const fail = (l: { n: number; text: string }, why: string): never => {
    throw new Error(`line ${l.n}: ${why}: ${l.text}`);
  };
  const scalar = (l: { n: number; text: string }, v: string): string => {
    if (/^['"]/.test(v)) {
      const q = v[0] as string;
      if (!v.endsWith(q) || v.length < 2) fail(l, 'unterminated quote');
      return v.slice(1, -1);
    }
    if (/^[[{&*!|>]/.test(v) || / #/.test(v)) fail(l, 'outside the YAML subset');
    return v;
  };
  const KEY = /^([A-Za-z_][\w.-]*):(?:\s+(.*))?$/;
  const block = (indent: number): Yaml => {
    const first = lines[i];
    if (!first || first.indent !== indent) return fail(first ?? { n: 0, text: '' }, `expected indent ${indent}`);
    if (first.text === '-' || first.text.startsWith('- ')) {
      const list: Yaml[] = [];
      while (lines[i]?.indent === indent && lines[i]!.text.startsWith('- ')) {
        const l = lines[i]!;
        const rest = l.text.slice(2);
        if (KEY.test(rest)) {
          lines[i] = { ...l, indent: indent + 2, text: rest }; // a map item: its keys sit two further in
          list.push(block(indent + 2));
        } else {
          list.push(scalar(l, rest));
          i += 1;
        }
      }
      return list;
    }
    const map: { [key: string]: Yaml } = {};
    while (lines[i]?.indent === indent) {
      const l = lines[i]!;
      const m = KEY.exec(l.text) ?? fail(l, 'not a key');
      const key = m[1] as string;
      if (key in map) fail(l, 'duplicate key');
      i += 1;
      if (m[2] !== undefined) map[key] = scalar(l, m[2]);
      else if (lines[i] && lines[i]!.indent > indent) map[key] = block(lines[i]!.indent);
      else map[key] = '';
    }
    return map;
  };
  const doc = block(0);
  if (i < lines.length) fail(lines[i]!, 'unexpected indentation');
  return doc;
}

function map(y: Yaml | undefined): { [key: string]: Yaml } {
  if (!y || typeof y === 'string' || Array.isArray(y)) throw new Error(`not a map: ${JSON.stringify(y)}`);
  return y;
}
function list(y: Yaml | undefined): Yaml[] {
  if (!Array.isArray(y)) throw new Error(`not a list: ${JSON.stringify(y)}`);
  return y;
}

/** KEY=value lines of an env file (commented `#KEY=value` lines too, as the settings it names). */
function envFile(text: string): { set: Record<string, string>; named: string[] } {
  const set: Record<string, string> = {};
  const named: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^(#?)([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) continue;
    named.push(m[2] as string);
    if (!m[1]) set[m[2] as string] = m[3] as string;
  }
  return { set, named };
}

describe('the YAML subset parser', () => {
  it('reads maps, lists of scalars and of maps, quoted scalars; refuses what it does not know', () => {
    expect(parseYaml([
      '# comment', 'a: 1', 'b:', '  c: "x: y"', '  d:', '    - e', "    - 'f'", 'g:', '  - h: 1', '    i: 2', '  - j: 3', 'k:',
    ].join('\n'))).toEqual({ a: '1', b: { c: 'x: y', d: ['e', 'f'] }, g: [{ h: '1', i: '2' }, { j: '3' }], k: '' });
    expect(() => parseYaml('a: [1, 2]')).toThrow(/subset/);
    expect(() => parseYaml('a: &x 1')).toThrow(/subset/);
    expect(() => parseYaml('a: 1 # why')).toThrow(/subset/);
    expect(() => parseYaml('a: 1\na: 2')).toThrow(/duplicate/);
    expect(() => parseYaml('a:\n    b: 1\n  c: 2')).toThrow(/indentation/);
  });
});

describe('the reference region (deploy/region/compose.yaml)', () => {
  const compose = map(parseYaml(read('deploy/region/compose.yaml')));
  const services = map(compose.services);
  const sample = envFile(read('deploy/region/region.sample.env'));
  const nodes = Object.entries(services).filter(([, s]) => map(s).image === 'openconsult:latest').map(([name, s]) => ({ name, s: map(s) }));
  const env = (s: { [key: string]: Yaml }) => map(s.environment) as Record<string, string>;
  /** Compose's `${VAR:?message}` interpolation, with the values an operator puts in .env. */
  const interpolate = (v: string) => v.replace(/\$\{(\w+)(?::\?[^}]*)?\}/g, (_m, name: string) => ({ POSTGRES_PASSWORD: 'pw', ANNOUNCED_ADDRESS: '203.0.113.10' })[name] ?? '');

  it('runs PostgreSQL, Redis (nothing written to disk), two or more nodes and nginx', () => {
    expect(map(services.postgres).image).toMatch(/^postgres:15/);
    expect(map(services.redis).image).toMatch(/^redis:7/);
    expect(map(services.redis).command).toMatch(/--save '' --appendonly no/);
    expect(map(services.nginx).image).toMatch(/^nginx:/);
    expect(nodes.length).toBeGreaterThanOrEqual(2);
    for (const engine of ['postgres', 'redis']) expect(map(map(services[engine]).healthcheck).test).toBeTruthy();
  });

  it('gives each node its own NODE_ID and media range, published for UDP and TCP, on the shared engines', () => {
    const ids = new Set<string>();
    const ranges: [number, number][] = [];
    for (const { name, s } of nodes) {
      const e = env(s);
      expect(e.NODE_ID).toBe(name);
      ids.add(e.NODE_ID as string);
      const [min, max] = [Number(e.RTC_MIN_PORT), Number(e.RTC_MAX_PORT)];
      expect(max).toBeGreaterThan(min);
      for (const [a, b] of ranges) expect(max < a || min > b, `${name}'s range overlaps another node's`).toBe(true);
      ranges.push([min, max]);
      expect(list(s.ports).sort()).toEqual([`${min}-${max}:${min}-${max}/tcp`, `${min}-${max}:${min}-${max}/udp`]);
      expect(list(s.env_file)).toEqual(['region.env']);
      expect(map(s.build).context).toBe('../..');
      expect(new URL(interpolate(e.DATABASE_URL as string)).hostname).toBe('postgres');
      expect(new URL(e.REDIS_URL as string).hostname).toBe('redis');
      for (const engine of ['postgres', 'redis']) expect(map(map(s.depends_on)[engine]).condition).toBe('service_healthy');
      expect(map(map(services.nginx).depends_on)[name]).toBeDefined();
    }
    expect(ids.size).toBe(nodes.length);
  });

  it('lets a node drain for longer than DRAIN_GRACE before it is killed', () => {
    const grace = Number(sample.set.DRAIN_GRACE ?? settings.drainGrace.default);
    for (const { s } of nodes) {
      expect(s.stop_signal).toBe('SIGTERM');
      expect(parseDuration(s.stop_grace_period as string)).toBeGreaterThan(grace);
    }
  });

  it('gives each node settings the real loader accepts, believing forwarded addresses only from nginx', () => {
    const nginxAddress = map(map(map(services.nginx).networks).region).ipv4_address;
    for (const { s } of nodes) {
      const merged = { ...sample.set, ...Object.fromEntries(Object.entries(env(s)).map(([k, v]) => [k, interpolate(v)])) };
      const config = loadConfig({ env: merged });
      expect(config.nodeId).toBe(env(s).NODE_ID);
      expect(config.redisUrl).toBe('redis://redis:6379');
      expect(config.trustProxy).toEqual([nginxAddress]);
      expect(config.drainGrace).toBe(Number(sample.set.DRAIN_GRACE));
    }
    expect(list(map(map(compose.networks).region).ipam === undefined ? [] : map(map(map(compose.networks).region).ipam).config)
      .map((c) => map(c).subnet)).toEqual(['10.0.0.0/24']);
  });

  it('has nginx route each node by the address it gives it, from the reference balancer file', () => {
    const conf = read('deploy/region/nginx.conf');
    const upstream = /upstream openconsult_region \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    const nodeMap = /map \$oc_node \$openconsult_node \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    for (const { s } of nodes) {
      const address = `${map(map(s.networks).region).ipv4_address}:${env(s).PORT}`;
      expect(upstream).toMatch(new RegExp(`server ${address.replaceAll('.', '\\.')}[ ;]`));
      expect(nodeMap).toMatch(new RegExp(`\\b${env(s).NODE_ID}\\s+${address.replaceAll('.', '\\.')};`));
    }
  });

  it('puts nginx in front with the region\'s balancer configuration and TLS', () => {
    const nginx = map(services.nginx);
    expect(list(nginx.ports)).toEqual(expect.arrayContaining(['443:443']));
    expect(list(nginx.volumes)).toEqual(expect.arrayContaining(['./nginx.conf:/etc/nginx/conf.d/default.conf:ro', './tls:/etc/ssl/openconsult:ro']));
  });

  it('names only real settings in its template, with every one a region needs', () => {
    const known = new Set(Object.values(settings).map((s) => s.env));
    expect(sample.named.filter((k) => !known.has(k))).toEqual([]);
    expect(sample.named).toEqual(expect.arrayContaining(['DATABASE_URL', 'REDIS_URL', 'SESSION_SECRET', 'API_KEY', 'PUBLIC_URL', 'NODE_ID', 'DRAIN_GRACE']));
    expect(loadConfig({ env: { ...sample.set, NODE_ID: 'node-a' } }).nodeId).toBe('node-a');
  });
});

describe('the systemd drop-in for a node (deploy/systemd/openconsult.service.d/region.conf)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'openconsult-region-unit-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const dropIn = read('deploy/systemd/openconsult.service.d/region.conf');
  const directive = (key: string) => [...dropIn.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);

  it('reads the region settings after the node\'s own, stops with SIGTERM and waits out DRAIN_GRACE', () => {
    expect(directive('EnvironmentFile')).toEqual(['/etc/openconsult/region.env']);
    expect(directive('KillSignal')).toEqual(['SIGTERM']);
    const grace = Number(envFile(read('deploy/region/region.sample.env')).set.DRAIN_GRACE);
    expect(grace).toBe(settings.drainGrace.default);
    expect(parseDuration(directive('TimeoutStopSec')[0] as string)).toBeGreaterThan(grace);
  });

  it('passes systemd-analyze verify together with the unit it extends', () => {
    const unit = read('deploy/systemd/openconsult.service').replaceAll('/opt/openconsult/current/bin/openconsult', path.join(projectRoot, 'deploy', 'openconsult'));
    writeFileSync(path.join(dir, 'openconsult.service'), unit);
    mkdirSync(path.join(dir, 'openconsult.service.d'), { recursive: true });
    writeFileSync(path.join(dir, 'openconsult.service.d', 'region.conf'), dropIn);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', path.join(dir, 'openconsult.service')], {
      encoding: 'utf8', cwd: dir, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/usr/bin:/sbin:/bin`, SYSTEMD_UNIT_PATH: `${dir}:` },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
