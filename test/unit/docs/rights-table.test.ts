/** The README's table of who may do what is generated from the grants in server/auth/permissions.ts. */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { readmeWithRights } from '../../../scripts/rights-table.js';
import { readmePath } from '../../../scripts/settings-table.js';

it('has the README rights table generated from the grants (run scripts/rights-table.ts --write)', () => {
  const readme = readFileSync(readmePath, 'utf8');
  expect(readme).toBe(readmeWithRights(readme));
});
