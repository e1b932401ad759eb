/** scripts/setup.sh --test's `npm audit --omit=dev`: a line per severity, fails on critical only, cached per lock file, and passes offline. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { audit } from '../../../scripts/audit.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-audit-'));
  writeFileSync(path.join(dir, 'package-lock.json'), '{"lockfileVersion":3}\n');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in npm that prints this (as `npm audit --json` would), exits with this code, and counts its runs. */
function fakeNpm(stdout: string, code: number, stderr = ''): string {
  const bin = path.join(dir, 'npm');
  writeFileSync(path.join(dir, 'out.json'), stdout);
  writeFileSync(path.join(dir, 'err.txt'), stderr);
  writeFileSync(bin, `#!/bin/sh\necho "$*" >> "${dir}/runs"\ncat "${dir}/out.json"\ncat "${dir}/err.txt" >&2\nexit ${code}\n`);
  chmodSync(bin, 0o755);
  return bin;
}
const runs = () => readFileSync(path.join(dir, 'runs'), 'utf8').trim().split('\n');
const report = (v: Record<string, number>) => JSON.stringify({ auditReportVersion: 2, vulnerabilities: {}, metadata: { vulnerabilities: { info: 0, low: 0, moderate: 0, high: 0, critical: 0, total: 0, ...v } } });

describe('npm audit in the set-up', () => {
  it('prints a line per severity and passes with high advisories; asks for runtime dependencies only', () => {
    const npm = fakeNpm(report({ high: 2, moderate: 1 }), 1);
    const r = audit({ root: dir, npm, stamp: path.join(dir, 'stamp') });
    expect(r.fail).toBe(false);
    expect(r.lines).toEqual(expect.arrayContaining(['npm audit (runtime dependencies): 2 high', 'npm audit (runtime dependencies): 1 moderate', 'npm audit (runtime dependencies): 0 critical']));
    expect(runs()[0]).toMatch(/^audit --omit=dev --json/);
  });

  it('fails on a critical advisory, and says what to do', () => {
    const npm = fakeNpm(report({ critical: 1 }), 1);
    const r = audit({ root: dir, npm, stamp: path.join(dir, 'stamp') });
    expect(r.fail).toBe(true);
    expect(r.lines.join('\n')).toContain('1 critical');
    expect(r.lines.join('\n')).toContain('upgrade before release');
  });

  it('runs once per package-lock.json: the answer is cached until the lock changes', () => {
    const npm = fakeNpm(report({ low: 1 }), 0);
    const stamp = path.join(dir, 'stamp');
    expect(audit({ root: dir, npm, stamp }).cached).toBe(false);
    const again = audit({ root: dir, npm, stamp });
    expect(again).toMatchObject({ cached: true, fail: false });
    expect(again.lines).toContain('npm audit (runtime dependencies): 1 low');
    expect(runs()).toHaveLength(1);
    writeFileSync(path.join(dir, 'package-lock.json'), '{"lockfileVersion":3,"changed":true}\n');
    expect(audit({ root: dir, npm, stamp }).cached).toBe(false);
    expect(runs()).toHaveLength(2);
  });

  it('says clearly that it could not audit, and carries on, when the registry cannot be reached (and tries again next time)', () => {
    const npm = fakeNpm('{"message":"request to https://registry.example/-/npm/v1/security/advisories/bulk failed, reason: getaddrinfo EAI_AGAIN registry.example"}', 1,
      'npm error audit endpoint returned an error\n');
    const stamp = path.join(dir, 'stamp');
    const r = audit({ root: dir, npm, stamp });
    expect(r.fail).toBe(false);
    expect(r.lines).toHaveLength(1);
    expect(r.lines[0]).toMatch(/^npm audit: not run, the registry's audit endpoint cannot be reached \(.*EAI_AGAIN.*\); carrying on$/);
    expect(audit({ root: dir, npm, stamp }).cached).toBe(false);
    expect(runs()).toHaveLength(2);
  });

  it('carries on when npm prints nothing useful at all', () => {
    const npm = fakeNpm('', 1, 'npm error code ENOTFOUND\n');
    expect(audit({ root: dir, npm, stamp: path.join(dir, 'stamp') })).toMatchObject({ fail: false, lines: [expect.stringContaining('ENOTFOUND')] });
  });
});
