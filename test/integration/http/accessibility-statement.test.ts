/**
 * The accessibility statement (/accessibility, NHS.UK pattern) is served, every page's footer
 * links to it, and it names every browser the test suite runs: the browsers are read from the
 * test helpers that launch one, so a helper for a new browser fails this test until the
 * statement names it too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../server/paths.js';
import { createConsultation } from '../../helpers/journey.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

/** What the statement calls each browser binary a helper launches by default. */
const browserNames: Record<string, string> = { chromium: 'Chromium', 'firefox-esr': 'Firefox ESR' };

/** The default binary of each test helper that launches a browser (`puppeteer.launch`). */
function launchedBrowsers(): { helper: string; binary: string }[] {
  const dir = path.join(projectRoot, 'test', 'helpers');
  return readdirSync(dir).filter((f) => f.endsWith('.ts')).flatMap((helper) => {
    const text = readFileSync(path.join(dir, helper), 'utf8');
    if (!text.includes('puppeteer.launch(')) return [];
    const binaries = [...text.matchAll(/['"]\/usr\/bin\/([\w.-]+)['"]/g)].map((m) => m[1] as string);
    // A helper launching a browser whose binary this test cannot read fails, not passes unseen.
    return binaries.length > 0 ? binaries.map((binary) => ({ helper, binary })) : [{ helper, binary: '(unknown)' }];
  });
}

async function page(route: string): Promise<{ status: number; type: string; html: string }> {
  const res = await fetch(`${server.url}${route}`);
  return { status: res.status, type: res.headers.get('content-type') ?? '', html: await res.text() };
}

/** The footer's link to the statement. */
const footerLink = /<footer[^>]*>\s*<p[^>]*><a href="\/accessibility">Accessibility statement<\/a><\/p><\/footer>/;

describe('accessibility statement', () => {
  it('is served at /accessibility with the sections of the NHS.UK pattern', async () => {
    const { status, type, html } = await page('/accessibility');
    expect(status).toBe(200);
    expect(type).toContain('text/html');
    for (const heading of [
      'Accessibility statement for video consultations', 'How accessible this service is',
      'Reporting accessibility problems with this service', 'Enforcement procedure',
      'Technical information about this service', 'Compliance status', 'Non-accessible content',
      'What we do to improve accessibility', 'Preparation of this accessibility statement',
    ]) expect(html).toContain(heading);
    expect(html).toContain('Equality Advisory and Support Service');
    expect(html).toContain('axe-core');
    expect(html).toContain('keyboard');
  });

  it('names every browser the test suite runs', async () => {
    const launched = launchedBrowsers();
    expect(launched.map((l) => l.helper).sort()).toEqual(expect.arrayContaining(['browser.ts', 'firefox.ts']));
    const { html } = await page('/accessibility');
    const listed = /<ul id="tested-browsers">([\s\S]*?)<\/ul>/.exec(html)?.[1] ?? '';
    for (const { helper, binary } of launched) {
      const name = browserNames[binary];
      expect(name, `test/helpers/${helper} launches ${binary}: name it in browserNames and in client/accessibility.html`).toBeDefined();
      expect(listed, `the statement's list of tested browsers names ${String(name)}`).toContain(`<li>${String(name)}</li>`);
    }
  });

  it('is linked from the footer of every page', async () => {
    const c = await createConsultation(server);
    for (const route of ['/', '/console', '/accessibility', new URL(c.patientUrl).pathname, new URL(c.clinicianUrl).pathname]) {
      const { status, html } = await page(route);
      expect(status, route).toBe(200);
      expect(html, route).toMatch(footerLink);
    }
  });
});
