/**
 * /assets/join.css holds a subset of NHS.UK frontend (client/join.scss: the core and the
 * components the pages use). The risk of a subset is a class a page uses with no rule behind
 * it: every `nhsuk-*` class in client/ (HTML class attributes, and classes set from scripts)
 * must have a rule in the built stylesheet. It must also stay local: no @font-face, nothing
 * from another host (the CSP refuses it), and the fonts fall back to Arial.
 * Reads dist/public/join.css as built by the test set-up (test/global-setup.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, publicDir } from '../../../server/paths.js';

const clientDir = path.join(projectRoot, 'client');
const css = readFileSync(path.join(publicDir, 'join.css'), 'utf8');

/** client/*.html and every client/**\/*.ts, as [relative path, text]. */
function clientSources(): [string, string][] {
  const files = readdirSync(clientDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(html|ts)$/.test(f))
    .sort();
  return files.map((f) => [path.join('client', f), readFileSync(path.join(clientDir, f), 'utf8')]);
}

/**
 * Every `nhsuk-…` word in the pages and scripts, with where it is used. `data-module` values
 * (the library's JavaScript hooks, not classes) are left out; a class built from pieces
 * (`nhsuk-button--${kind}`) shows up as `nhsuk-button--` and fails: spell such classes out.
 */
function classesUsed(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  for (const [file, text] of clientSources()) {
    const words = text.replace(/\sdata-module="[^"]*"/g, '').match(/\bnhsuk-[\w-]*/g) ?? [];
    for (const w of words) used.set(w, [...new Set([...(used.get(w) ?? []), file])]);
  }
  return used;
}

/**
 * The classes that some rule styles on their own: those of every selector with no combinator
 * (`.nhsuk-select`, `.nhsuk-button--secondary:hover`), at-rule preludes and `:not(…)`-like
 * arguments left out. `.nhsuk-input-wrapper .nhsuk-select` (another component's rule for it
 * inside that component) does not count: it would not style a lone select.
 */
function classesStyled(): Set<string> {
  const styled = new Set<string>();
  for (let [, prelude] of css.matchAll(/([^{};]+)\{/g)) {
    if (prelude!.trimStart().startsWith('@')) continue;
    while (/\([^()]*\)|\[[^[\]]*\]/.test(prelude!)) prelude = prelude!.replace(/\([^()]*\)|\[[^[\]]*\]/g, '');
    for (const selector of prelude!.split(',')) {
      if (/[\s>+~]/.test(selector.trim())) continue;
      for (const [, name] of selector.matchAll(/\.(-?[_a-zA-Z][\w-]*)/g)) styled.add(name!);
    }
  }
  return styled;
}

describe('join.css (NHS.UK frontend subset and ours)', () => {
  it('finds the classes the pages use (the scan itself works)', () => {
    // From join.html (class attributes) and from client/join.ts (set from script): both are read.
    expect([...classesUsed().keys()]).toEqual(expect.arrayContaining(['nhsuk-warning-callout', 'nhsuk-details', 'nhsuk-button--small']));
    expect(classesStyled()).toContain('nhsuk-button');
  });

  it('has a rule for every nhsuk- class used in client/', () => {
    const styled = classesStyled();
    const missing = [...classesUsed()].filter(([name]) => !styled.has(name)).map(([name, files]) => `${name} (${files.join(', ')})`);
    expect(missing, 'classes with no rule in join.css: add their component to client/join.scss').toEqual([]);
  });

  it('loads nothing from another host and has no @font-face', () => {
    expect(css).not.toMatch(/@font-face/);
    // SVG data URIs name the SVG namespace (www.w3.org): that is not a request.
    expect(css.replace(/http:\/\/www\.w3\.org[^)"']*/g, '')).not.toMatch(/https?:\/\/|\/\/[\w.-]+\.\w+\//);
    for (const [, url] of css.matchAll(/url\(\s*["']?([^"')]+)/g)) {
      expect(url!.startsWith('/assets/') || url!.startsWith('data:'), `url(${url})`).toBe(true);
    }
  });

  it('sets the page font, falling back to Arial', () => {
    const html = [...css.matchAll(/(?:^|[}\s,])html\{([^}]*)\}/g)].map((m) => m[1]).join(';');
    expect(html).toMatch(/font-family:[^;]*\barial\b[^;]*,\s*sans-serif/i);
  });
});
