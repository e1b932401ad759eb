/**
 * The Prometheus alert rules and the Grafana dashboard in deploy/: `promtool check rules` and
 * `promtool test rules` (fixture series fire each alert and keep it quiet), every alert has a
 * firing and a quiet case, and every metric the rules and the dashboard read exists: openconsult's
 * own on a real server's /metrics, recorded ones in the rules, the rest from the named exporters.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startServer } from '../../helpers/server.js';

const dir = path.resolve(import.meta.dirname, '../../../deploy');
const rulesFile = path.join(dir, 'prometheus/openconsult-alerts.yml');
const testsFile = path.join(dir, 'prometheus/openconsult-alerts.test.yml');
const dashboardFile = path.join(dir, 'grafana/openconsult-dashboard.json');
/** Metrics of other exporters: Prometheus's own `up`, node_exporter's filesystems. */
const external = new Set(['up', 'node_filesystem_avail_bytes', 'node_filesystem_size_bytes']);

function promtool(...args: string[]): string {
  return execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Each `key:` value in a YAML file, inline or as a `|` block (enough for the rules file's `expr`, `alert`, `record`). */
function yamlValues(text: string, key: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = new RegExp(`^(\\s*)(?:- )?${key}: (.*)$`).exec(line);
    if (!m) return;
    if (m[2] !== '|') return void out.push(m[2] as string);
    const indent = (m[1] as string).length;
    const block: string[] = [];
    for (const next of lines.slice(i + 1)) {
      if (next.trim() && next.length - next.trimStart().length <= indent + 2) break;
      block.push(next);
    }
    out.push(block.join('\n'));
  });
  return out;
}

/** Metric names in a PromQL expression: selectors (a name before `{` or `[`) and any openconsult name. */
function metricNames(expr: string): string[] {
  const selectors = expr.match(/(?<![\w:.$"])[a-zA-Z_][\w:]*(?=\s*[{[])/g) ?? [];
  const ours = expr.match(/openconsult[_:][\w:]+/g) ?? [];
  return [...new Set([...selectors, ...ours])];
}

const rules = readFileSync(rulesFile, 'utf8');
const alerts = yamlValues(rules, 'alert');
const recorded = new Set(yamlValues(rules, 'record'));
const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };

describe('alert rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', rulesFile)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their promtool unit tests on fixture series', () => {
    expect(promtool('test', 'rules', testsFile)).toContain('SUCCESS');
  });

  it('each alert has a case that fires it and one that shows it quiet', () => {
    expect(alerts).toEqual(expect.arrayContaining(['PatientWaitingUnseen', 'SmsFailing', 'IceFailureShareHigh',
      'MediaWorkerDied', 'OpenconsultDown', 'NodeDown', 'DataFolderDiskFull', 'DataFolderDiskFillingUp',
      'RegionNodeLost', 'RegionReadyNodesLow', 'RegionRegistryDown']));
    const cases = readFileSync(testsFile, 'utf8').split(/- eval_time: /).slice(1);
    for (const alert of alerts) {
      const mine = cases.filter((c) => new RegExp(`alertname: ${alert}\\s`).test(c));
      expect(mine.some((c) => /exp_alerts: \[\]/.test(c)), `${alert}: a quiet case`).toBe(true);
      expect(mine.some((c) => /exp_alerts:\s*\n\s*- exp_labels:/.test(c)), `${alert}: a firing case`).toBe(true);
    }
  });
});

describe('metric names in the rules and the dashboard', () => {
  let server: TestServer;
  let families: Set<string>;

  beforeAll(async () => {
    server = await startServer();
    const text = await (await fetch(`${server.url}/metrics`)).text();
    families = new Set<string>();
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      const [, name, type] = m as unknown as [string, string, string];
      families.add(name);
      if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) families.add(name + s);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  function unknown(exprs: string[]): string[] {
    return [...new Set(exprs.flatMap(metricNames))].filter((n) =>
      n.includes(':') ? !recorded.has(n) : n.startsWith('openconsult_') ? !families.has(n) : !external.has(n));
  }

  it('the rules read only metrics the server exports (or they record)', () => {
    const exprs = yamlValues(rules, 'expr');
    expect(exprs.length).toBeGreaterThanOrEqual(alerts.length);
    expect(families.has('openconsult_participants')).toBe(true);
    expect(unknown(exprs)).toEqual([]);
  });

  it('the dashboard reads the same figures, and only metrics that exist', () => {
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(unknown(exprs)).toEqual([]);
    const inRules = new Set(yamlValues(rules, 'expr').flatMap(metricNames));
    const inDashboard = new Set(exprs.flatMap(metricNames));
    expect([...inRules].filter((n) => !inDashboard.has(n))).toEqual([]);
  });
});
