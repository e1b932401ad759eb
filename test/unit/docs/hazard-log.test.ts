/** The hazard log names only tests that exist, and its Markdown is generated from its JSON. */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type HazardLog, checkHazards, dcb0160Path, likelihoods, loadHazards, logPath, parseHazards, renderDcb0160, renderLog, risk, root,
  severities,
} from '../../../scripts/hazard-log.js';
import { testTitles } from '../../../scripts/test-titles.js';

const run = promisify(execFile);

describe('the hazard log', () => {
  const log = loadHazards();

  it('names only test files and titles that exist', () => {
    expect(checkHazards(log).missing).toEqual([]);
  });

  it('has at least 15 hazards, each rated before and after its controls, never worse after', () => {
    expect(log.hazards.length).toBeGreaterThanOrEqual(15);
    for (const h of log.hazards) {
      expect(risk(h.residual.severity, h.residual.likelihood)).toBeLessThanOrEqual(risk(h.initial.severity, h.initial.likelihood));
    }
  });

  it('has hazard-log.md generated from hazards.json (run scripts/hazard-log.ts --write)', () => {
    expect(readFileSync(logPath, 'utf8')).toBe(renderLog(log));
  });

  it('has the DCB0160 template generated from it, listing every control transferred to the deployer', () => {
    const template = readFileSync(dcb0160Path, 'utf8');
    expect(template).toBe(renderDcb0160(log));
    for (const h of log.hazards) {
      for (const c of h.controls) if (c.owner === 'deployer') expect(template).toContain(`| ${h.id} ${h.title} | ${c.control} |`);
    }
  });

  it('has the safety case name exactly the hazards left at medium risk or above', () => {
    const safetyCase = readFileSync(path.join(path.dirname(logPath), 'safety-case.md'), 'utf8');
    const paragraph = /^- The hazards left at[\s\S]*?(?=^- )/m.exec(safetyCase)?.[0] ?? '';
    const named = [...paragraph.matchAll(/\((H\d{2})\)/g)].map((m) => m[1]);
    const high = log.hazards.filter((h) => risk(h.residual.severity, h.residual.likelihood) >= 3).map((h) => h.id);
    expect(named).toEqual(high);
  });

  it('prints the supplier controls without a test, and exits 0 when every named test exists', async () => {
    const { stdout } = await run(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'scripts', 'hazard-log.ts')], { cwd: root });
    const untested = checkHazards(log).untested;
    expect(stdout).toContain(`Supplier controls without a test (${untested.length}):`);
    for (const line of untested) expect(stdout).toContain(line);
  });
});

describe('the hazard log check', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'oc-hazard-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'test'));
  writeFileSync(path.join(dir, 'test', 'a.test.ts'), "describe('suite', () => { it('does a thing', () => {}); });\n");

  const withTests = (tests: { file: string; test: string }[]): HazardLog => ({
    hazards: [{
      id: 'H01', title: 't', causes: ['c'], effect: 'e', harm: 'h',
      initial: { severity: 'major', likelihood: 'medium' },
      controls: [{ control: 'proved', owner: 'supplier', tests }, { control: 'unproved', owner: 'supplier', tests: [] }],
      residual: { severity: 'major', likelihood: 'low' },
    }],
  });

  it('accepts a test named by its title or by describe > title', () => {
    const found = checkHazards(withTests([
      { file: 'test/a.test.ts', test: 'does a thing' },
      { file: 'test/a.test.ts', test: 'suite > does a thing' },
    ]), dir);
    expect(found.missing).toEqual([]);
    expect(found.untested).toEqual(['H01 t: unproved']);
  });

  it('fails on a test title that does not exist, or a file that does not', () => {
    const found = checkHazards(withTests([
      { file: 'test/a.test.ts', test: 'does another thing' },
      { file: 'test/a.test.ts', test: 'other suite > does a thing' },
      { file: 'test/gone.test.ts', test: 'does a thing' },
    ]), dir);
    expect(found.missing).toEqual([
      'H01: no test "does another thing" in test/a.test.ts',
      'H01: no test "other suite > does a thing" in test/a.test.ts',
      'H01: no test file test/gone.test.ts',
    ]);
  });

  it('refuses JSON that does not fit the schema, naming where', () => {
    const bad = withTests([]);
    (bad.hazards[0] as { initial: { likelihood: string } }).initial.likelihood = 'often';
    expect(() => parseHazards(JSON.stringify(bad))).toThrow(/hazards\.json\/hazards\/0\/initial\/likelihood/);
    expect(() => parseHazards(JSON.stringify({ hazards: [...withTests([]).hazards, ...withTests([]).hazards] }))).toThrow(/H01 appears twice/);
  });

  it('rates risk on the DCB0129 matrix', () => {
    expect(risk('catastrophic', 'very high')).toBe(5);
    expect(risk('minor', 'very high')).toBe(3);
    expect(risk('catastrophic', 'very low')).toBe(3);
    expect(risk('minor', 'very low')).toBe(1);
    expect(risk('considerable', 'medium')).toBe(3);
    expect(risk('major', 'low')).toBe(3);
    for (const s of severities) for (const l of likelihoods) expect(risk(s, l)).toBeGreaterThanOrEqual(1);
  });
});

describe('test titles read from source', () => {
  const src = String.raw`
    import { describe, it, test } from 'vitest';
    const re = /it\('not a test'\)/;
    describe('outer', () => {
      it('has an escaped \'quote\'', () => { expect(/['"(]/.test('x')).toBe(false); });
      describe("inner \"one\"", () => {
        test(` + '`a template title`' + String.raw`, () => {});
        it.each([[1, 2], [3, 4]])('adds %i and %i', (a, b) => {});
      });
      it('comes after the inner suite', () => {});
      it` + '.skip' + String.raw`('is skipped', () => {});
      it(` + '`made of ${name}`' + String.raw`, () => {});
      // it('is commented out', () => {});
    });
    it('is at the top level', () => {});
  `;
  const { paths, titles } = testTitles(src);

  it('finds nested titles with escaped quotes, templates and it.each, and nothing else', () => {
    expect([...paths]).toEqual([
      "outer > has an escaped 'quote'",
      'outer > inner "one" > a template title',
      'outer > inner "one" > adds %i and %i',
      'outer > comes after the inner suite',
      'is at the top level',
    ]);
    expect(titles.has('a template title')).toBe(true);
  });
});
