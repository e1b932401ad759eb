/**
 * The clinical safety hazard log (DCB0129): docs/clinical-safety/hazards.json is the one source;
 * hazard-log.md is rendered from it, so the two cannot drift. Every control names the tests that
 * prove it by file and title; `check` reports a named file or title that does not exist (a unit
 * test fails on it), and lists the controls that have no test yet.
 *
 *   npx tsx scripts/hazard-log.ts           prints the controls without a test; exit 1 on a bad reference
 *   npx tsx scripts/hazard-log.ts --write   rewrites hazard-log.md and dcb0160-template.md
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { testTitles } from './test-titles.js';

export const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
export const hazardsPath = path.join(root, 'docs', 'clinical-safety', 'hazards.json');
export const logPath = path.join(root, 'docs', 'clinical-safety', 'hazard-log.md');
export const dcb0160Path = path.join(root, 'docs', 'clinical-safety', 'dcb0160-template.md');

/** The DCB0129 scales, worst first. */
export const severities = ['catastrophic', 'major', 'considerable', 'significant', 'minor'] as const;
export const likelihoods = ['very high', 'high', 'medium', 'low', 'very low'] as const;
export type Severity = (typeof severities)[number];
export type Likelihood = (typeof likelihoods)[number];

/** The DCB0129 risk matrix: rows by likelihood (very high first), columns by severity (catastrophic first). */
const matrix: readonly (readonly number[])[] = [
  [5, 5, 4, 4, 3],
  [5, 4, 3, 3, 2],
  [4, 3, 3, 2, 2],
  [4, 3, 2, 2, 1],
  [3, 2, 2, 1, 1],
];
export const riskNames = ['', 'very low', 'low', 'medium', 'high', 'very high'] as const;

export function risk(severity: Severity, likelihood: Likelihood): number {
  return (matrix[likelihoods.indexOf(likelihood)] as readonly number[])[severities.indexOf(severity)] as number;
}

const Rating = Type.Object({
  severity: Type.Union(severities.map((s) => Type.Literal(s))),
  likelihood: Type.Union(likelihoods.map((l) => Type.Literal(l))),
}, { additionalProperties: false });

const TestRef = Type.Object({
  file: Type.String({ pattern: '^test/.+\\.test\\.ts$' }),
  /** The `it` title, or "describe > ... > it". */
  test: Type.String({ minLength: 1 }),
}, { additionalProperties: false });

const Control = Type.Object({
  control: Type.String({ minLength: 1 }),
  /** supplier: in this code, proved by tests; deployer: the deploying organisation's procedure (DCB0160). */
  owner: Type.Union([Type.Literal('supplier'), Type.Literal('deployer')]),
  tests: Type.Array(TestRef),
}, { additionalProperties: false });

const Hazard = Type.Object({
  id: Type.String({ pattern: '^H[0-9]{2}$' }),
  title: Type.String({ minLength: 1 }),
  causes: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
  effect: Type.String({ minLength: 1 }),
  harm: Type.String({ minLength: 1 }),
  initial: Rating,
  controls: Type.Array(Control, { minItems: 1 }),
  residual: Rating,
}, { additionalProperties: false });

const HazardLog = Type.Object({ hazards: Type.Array(Hazard, { minItems: 1 }) }, { additionalProperties: false });
const checkLog = TypeCompiler.Compile(HazardLog);

export type HazardLog = Static<typeof HazardLog>;
export type Hazard = Static<typeof Hazard>;

/** The log from its JSON text; throws naming the first place that does not fit the schema. */
export function parseHazards(text: string): HazardLog {
  const data: unknown = JSON.parse(text);
  if (!checkLog.Check(data)) {
    const e = checkLog.Errors(data).First();
    throw new Error(`hazards.json${e?.path ?? ''}: ${e?.message ?? 'invalid'}`);
  }
  const ids = new Set<string>();
  for (const h of data.hazards) {
    if (ids.has(h.id)) throw new Error(`hazards.json: ${h.id} appears twice`);
    ids.add(h.id);
  }
  return data;
}

export interface Findings {
  /** References to a test file or title that does not exist: the check fails on any. */
  missing: string[];
  /** Supplier controls naming no test yet. */
  untested: string[];
  /** Controls the deploying organisation carries (its DCB0160 log). */
  deployer: string[];
}

/** Checks every test reference against the test files under `base`. */
export function checkHazards(log: HazardLog, base = root): Findings {
  const titlesOf = new Map<string, ReturnType<typeof testTitles> | undefined>();
  const read = (file: string) => {
    if (!titlesOf.has(file)) {
      const full = path.join(base, file);
      titlesOf.set(file, existsSync(full) ? testTitles(readFileSync(full, 'utf8')) : undefined);
    }
    return titlesOf.get(file);
  };
  const found: Findings = { missing: [], untested: [], deployer: [] };
  for (const h of log.hazards) {
    for (const c of h.controls) {
      const name = `${h.id} ${h.title}: ${c.control}`;
      if (c.owner === 'deployer') found.deployer.push(name);
      else if (c.tests.length === 0) found.untested.push(name);
      for (const t of c.tests) {
        const titles = read(t.file);
        if (!titles) found.missing.push(`${h.id}: no test file ${t.file}`);
        else if (!titles.paths.has(t.test) && !titles.titles.has(t.test)) found.missing.push(`${h.id}: no test "${t.test}" in ${t.file}`);
      }
    }
  }
  return found;
}

const cap = (s: string) => s[0]?.toUpperCase() + s.slice(1);
const rating = (r: Static<typeof Rating>) => {
  const n = risk(r.severity, r.likelihood);
  return `${cap(r.severity)} / ${r.likelihood} = **${n}** (${riskNames[n]})`;
};

/** hazard-log.md, rendered from the JSON. */
export function renderLog(log: HazardLog): string {
  const out: string[] = [
    '<!-- generated from hazards.json by scripts/hazard-log.ts --write; edit the JSON, not this file -->',
    '# Hazard log (DCB0129)',
    '',
    'Severity and likelihood on the DCB0129 scales, risk from its 5x5 matrix (1 very low .. 5 very high).',
    'Each supplier control names the tests that prove it; `npm test` fails when a named test does not',
    'exist. Deployer controls belong in the deploying organisation\'s DCB0160 log',
    '([template](dcb0160-template.md)).',
    '',
    '| Hazard | Initial risk | Residual risk | Controls without a test |',
    '| --- | --- | --- | --- |',
  ];
  for (const h of log.hazards) {
    const untested = h.controls.filter((c) => c.owner === 'supplier' && c.tests.length === 0).length;
    const score = (r: Static<typeof Rating>) => { const n = risk(r.severity, r.likelihood); return `${n} ${riskNames[n]}`; };
    out.push(`| [${h.id}](#${h.id.toLowerCase()}) ${h.title} | ${score(h.initial)} | ${score(h.residual)} | ${untested || ''} |`);
  }
  for (const h of log.hazards) {
    out.push('', `## ${h.id}`, '', `**${h.title}**`, '', 'Causes:', '', ...h.causes.map((c) => `- ${c}`), '');
    out.push(`Effect: ${h.effect}`, '', `Harm: ${h.harm}`, '', `Initial: ${rating(h.initial)}`, '', 'Controls:', '');
    for (const c of h.controls) {
      const tests = c.tests.map((t) => `  - \`${t.file}\`: ${t.test}`);
      const label = c.owner === 'deployer' ? ' *(deployer)*' : c.tests.length === 0 ? ' *(no test yet)*' : '';
      out.push(`- ${c.control}${label}`, ...tests);
    }
    out.push('', `Residual: ${rating(h.residual)}`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * dcb0160-template.md: the deploying organisation's log, starting from the controls this log
 * transfers to it (rendered from the JSON, so a new deployer control cannot be left out).
 */
export function renderDcb0160(log: HazardLog): string {
  const out: string[] = [
    '<!-- generated from hazards.json by scripts/hazard-log.ts --write; copy it, do not edit it here -->',
    '# DCB0160 hazard log template for a deploying organisation',
    '',
    'DCB0160 asks the organisation that deploys openconsult (the practice, PCN or ICB) for its own',
    'clinical risk management: a Clinical Safety Officer, a hazard log and a safety case for its',
    'use of the service. Copy this file into your clinical risk management file and complete it.',
    '',
    '| | |',
    '| --- | --- |',
    '| Organisation (ODS code) | |',
    '| Clinical Safety Officer (name, registration) | |',
    '| openconsult version deployed | |',
    '| Supplier safety case reviewed ([safety case](safety-case.md), [hazard log](hazard-log.md)) on | |',
    '| Go-live date | |',
    '',
    '## Controls transferred by the supplier',
    '',
    'The supplier\'s hazard log relies on these controls being in place in your organisation. For',
    'each, record how it is met (procedure, training, configuration), who owns it and the evidence.',
    '',
    '| Hazard | Control | How it is met locally | Owner | Evidence | In place (date) |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const h of log.hazards) {
    for (const c of h.controls.filter((c) => c.owner === 'deployer')) out.push(`| ${h.id} ${h.title} | ${c.control} | | | | |`);
  }
  out.push(
    '',
    '## Supplier hazards reassessed locally',
    '',
    'Re-rate each supplier hazard for your setting (your patients, your network, your procedures).',
    '',
    '| Hazard | Supplier residual risk | Local severity | Local likelihood | Local risk | Accepted by (CSO) |',
    '| --- | --- | --- | --- | --- | --- |',
    ...log.hazards.map((h) => `| ${h.id} ${h.title} | ${risk(h.residual.severity, h.residual.likelihood)} | | | | |`),
    '',
    '## Local hazards',
    '',
    'Hazards of your own deployment the supplier cannot see (for example: your telephone fallback,',
    'rooms where clinicians hold calls, your clinical system\'s integration, staff cover).',
    '',
    '| ID | Hazard | Causes | Effect | Initial risk | Controls | Residual risk | Owner |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    '| L01 | | | | | | | |',
    '',
  );
  return out.join('\n');
}

export function loadHazards(): HazardLog {
  return parseHazards(readFileSync(hazardsPath, 'utf8'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const log = loadHazards();
  if (process.argv.includes('--write')) {
    writeFileSync(logPath, renderLog(log));
    writeFileSync(dcb0160Path, renderDcb0160(log));
  }
  const f = checkHazards(log);
  const section = (title: string, lines: string[]) => `${title} (${lines.length}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
  process.stdout.write(section('Supplier controls without a test', f.untested));
  process.stdout.write(section('Deployer controls (DCB0160)', f.deployer));
  if (f.missing.length) {
    process.stderr.write(section('Named tests that do not exist', f.missing));
    process.exitCode = 1;
  }
}
