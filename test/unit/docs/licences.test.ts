/** The README's licence table of runtime dependencies is generated, and every licence is permissive. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALLOWED_LICENCES, allowed, readmeWithLicences, runtimePackages } from '../../../scripts/licence-table.js';
import { readmePath } from '../../../scripts/settings-table.js';

describe('runtime dependency licences', () => {
  it('has the README table generated from the installed packages (run scripts/licence-table.ts --write)', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toBe(readmeWithLicences(readme));
  });

  it('lists only runtime packages: mediasoup and better-sqlite3 at their pinned versions, no development tools', () => {
    const pinned = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const names = runtimePackages().map((p) => `${p.name}@${p.version}`);
    expect(names).toEqual(expect.arrayContaining([`mediasoup@${pinned.dependencies.mediasoup}`, `better-sqlite3@${pinned.dependencies['better-sqlite3']}`]));
    for (const dev of ['typescript', 'vitest', 'tsx', 'esbuild', 'puppeteer-core']) expect(names.some((n) => n.startsWith(`${dev}@`)), dev).toBe(false);
  });

  it(`allows only permissive licences (${ALLOWED_LICENCES.join(', ')})`, () => {
    const refused = runtimePackages().filter((p) => !allowed(p.licence)).map((p) => `${p.name}@${p.version}: ${p.licence}`);
    expect(refused).toEqual([]);
  });

  it('reads SPDX expressions: any side of OR, every side of AND; copyleft and unknown are refused', () => {
    expect(allowed('(MIT OR WTFPL)')).toBe(true);
    expect(allowed('(BSD-2-Clause OR MIT OR Apache-2.0)')).toBe(true);
    expect(allowed('MIT AND GPL-3.0-only')).toBe(false);
    for (const l of ['GPL-3.0-only', 'LGPL-2.1-or-later', 'AGPL-3.0', 'MPL-2.0', 'UNKNOWN', 'SEE LICENSE IN LICENSE', 'UNLICENSED']) expect(allowed(l), l).toBe(false);
  });
});
