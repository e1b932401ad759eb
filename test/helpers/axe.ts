/**
 * axe-core in the page under test, for WCAG 2.1 A and AA. The pages' CSP allows no inline
 * scripts, so call `allowAxe(page)` before the page navigates (it bypasses the CSP for that page
 * only), then `expectAccessible(page, 'what is on screen')` in each state worth checking.
 */
import { createRequire } from 'node:module';
import type { Page } from 'puppeteer-core';
import { expect } from 'vitest';

const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** The rule sets we promise: WCAG 2.1 levels A and AA (2.0 rules included). */
const wcag21aa = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface AxeNode { target: unknown[]; failureSummary?: string; html: string }
interface AxeViolation { id: string; impact: string | null; help: string; helpUrl: string; nodes: AxeNode[] }

/** Call before `goto`: lets axe's script into the page despite its strict CSP. */
export async function allowAxe(page: Page): Promise<void> {
  await page.setBypassCSP(true);
}

/**
 * Runs axe on the whole document; resolves to a readable list of violations (empty when none).
 * With AXE_REVIEW=1 in the environment it also prints what axe could not decide by itself
 * (its "incomplete" results, e.g. text contrast over video), for a person to review.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: axePath });
  const { violations, incomplete } = await page.evaluate(async (tags: string[]) => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[]; incomplete: AxeViolation[] }> } }).axe;
    // No rule is switched off. video-caption (captions for prerecorded video) only asks for a
    // review of the call's <video> elements, never fails: they carry a live conversation.
    const result = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations', 'incomplete'] });
    const brief = (list: AxeViolation[]) => list.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary, html: n.html.slice(0, 300) })),
    }));
    return { violations: brief(result.violations), incomplete: brief(result.incomplete) };
  }, wcag21aa);
  if (process.env.AXE_REVIEW && incomplete.length > 0) console.log(`axe: to review by hand on ${page.url()}\n${formatViolations(incomplete)}`);
  return violations;
}

export function formatViolations(violations: AxeViolation[]): string {
  return violations.map((v) => [
    `${v.id} (${v.impact ?? 'n/a'}): ${v.help} ${v.helpUrl}`,
    ...v.nodes.map((n) => `  at ${JSON.stringify(n.target)}\n    ${n.html}\n    ${(n.failureSummary ?? '').replace(/\n/g, '\n    ')}`),
  ].join('\n')).join('\n');
}

/** Fails with every violation spelled out (rule, element, what to fix). */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const violations = await axeViolations(page);
  if (violations.length > 0) console.error(`axe: ${state}\n${formatViolations(violations)}`);
  expect(violations.map((v) => `${v.id} at ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`), `WCAG 2.1 AA violations: ${state}`).toEqual([]);
}
