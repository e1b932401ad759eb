/**
 * `npm audit --omit=dev` for the set-up of the tests (scripts/setup.sh --test): one line per
 * severity, failing only on a critical advisory (high and below are for a person to judge: the
 * fix may be a major upgrade). The result is cached by package-lock.json's hash, so it runs once
 * per dependency change. With no registry, or one without the audit endpoint (an offline VM, a
 * mirror), it says so and passes: the tests must still run there.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
type Severity = (typeof SEVERITIES)[number];

export type AuditOutcome =
  | { kind: 'audited'; counts: Record<Severity, number> }
  | { kind: 'unavailable'; reason: string };

/** What `npm audit --json` printed: counts per severity, or why there are none. */
export function readAudit(stdout: string, stderr: string): AuditOutcome {
  let report: { metadata?: { vulnerabilities?: Partial<Record<Severity, number>> }; message?: string } = {};
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch {
    // not JSON: npm failed before it could report
  }
  const v = report.metadata?.vulnerabilities;
  if (v) return { kind: 'audited', counts: Object.fromEntries(SEVERITIES.map((s) => [s, Number(v[s] ?? 0)])) as Record<Severity, number> };
  const reason = report.message ?? stderr.split('\n').find((l) => l.trim() !== '') ?? 'no answer';
  return { kind: 'unavailable', reason: reason.replace(/^npm (error|warn) /, '').trim() };
}

/** The lines to print, and whether the set-up fails. */
export function summarise(outcome: AuditOutcome): { lines: string[]; fail: boolean } {
  if (outcome.kind === 'unavailable') {
    return { lines: [`npm audit: not run, the registry's audit endpoint cannot be reached (${outcome.reason}); carrying on`], fail: false };
  }
  const lines = SEVERITIES.map((s) => `npm audit (runtime dependencies): ${outcome.counts[s]} ${s}`);
  const fail = outcome.counts.critical > 0;
  if (fail) lines.push('npm audit: critical advisories in runtime dependencies: see `npm audit --omit=dev` and upgrade before release');
  return { lines, fail };
}

export interface AuditOptions {
  root: string;
  /** The npm to run (a test passes a stand-in). */
  npm?: string;
  /** Where the result of the last audit is kept, with the lock file's hash. */
  stamp?: string;
}

/** Runs (or recalls) the audit; returns what to print and whether to fail. */
export function audit(opts: AuditOptions): { lines: string[]; fail: boolean; cached: boolean } {
  const stamp = opts.stamp ?? path.join(opts.root, 'node_modules', '.openconsult-audit');
  const key = createHash('sha256').update(readFileSync(path.join(opts.root, 'package-lock.json'))).digest('hex').slice(0, 16);
  if (existsSync(stamp)) {
    const saved = JSON.parse(readFileSync(stamp, 'utf8')) as { key: string; outcome: AuditOutcome };
    if (saved.key === key) return { ...summarise(saved.outcome), cached: true };
  }
  // No retries: an offline VM should not wait long for an answer that will not come.
  const r = spawnSync(opts.npm ?? 'npm', ['audit', '--omit=dev', '--json', '--fetch-retries=0', '--fetch-timeout=20000'], {
    cwd: opts.root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  const outcome = r.error ? { kind: 'unavailable' as const, reason: r.error.message } : readAudit(r.stdout, r.stderr);
  // Only a real answer is kept: a machine that comes online later audits then.
  if (outcome.kind === 'audited') writeFileSync(stamp, `${JSON.stringify({ key, outcome })}\n`);
  return { ...summarise(outcome), cached: false };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = audit({ root: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..') });
  for (const line of result.lines) process.stderr.write(`setup: ${line}${result.cached ? ' (cached for this package-lock.json)' : ''}\n`);
  process.exitCode = result.fail ? 1 : 0;
}
