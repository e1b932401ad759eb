/**
 * The titles of a vitest file's tests, read from its source without running it: every
 * `it('...')`, `test('...')` and `it.each(...)('...')` with a literal title, as
 * "describe > ... > it" and as the bare title. A small scanner (strings, templates, comments and
 * regular expressions skipped; parentheses counted) rather than a regex, so a quote inside a
 * title, a regex containing `(` or a `.test(` call cannot confuse it.
 */

type Token = { kind: 'word'; text: string; at: number } | { kind: 'string'; text: string; at: number } | { kind: 'punct'; text: string; at: number };

/** Characters after which a `/` starts a regular expression rather than a division. */
const beforeRegex = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';', '+', '-', '*', '%', '<', '>', '~', '^']);
const regexAfterWord = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'void', 'throw', 'await', 'yield']);

function unescape(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e[0] === 'u' && e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    if (e[0] === 'x' && e.length === 3) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', '\n': '' } as Record<string, string>)[e] ?? e;
  });
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const last = (): Token | undefined => out[out.length - 1];
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '/' && src[i + 1] === '/') { i = src.indexOf('\n', i); if (i < 0) break; continue; }
    if (c === '/' && src[i + 1] === '*') { const e = src.indexOf('*/', i + 2); i = e < 0 ? src.length : e + 2; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out.push({ kind: 'string', text: unescape(src.slice(i + 1, j)), at: i });
      i = j + 1;
      continue;
    }
    if (c === '`') {
      // A template with `${...}` is not a literal title: recorded as a punct so it never matches.
      let j = i + 1;
      let literal = true;
      while (j < src.length && src[j] !== '`') {
        if (src[j] === '\\') { j += 2; continue; }
        if (src[j] === '$' && src[j + 1] === '{') {
          literal = false;
          let depth = 1;
          j += 2;
          while (j < src.length && depth > 0) {
            if (src[j] === '{') depth++;
            else if (src[j] === '}') depth--;
            j++;
          }
          continue;
        }
        j++;
      }
      out.push(literal ? { kind: 'string', text: unescape(src.slice(i + 1, j)), at: i } : { kind: 'punct', text: '`', at: i });
      i = j + 1;
      continue;
    }
    if (c === '/') {
      const prev = last();
      const isRegex = !prev || (prev.kind === 'punct' && beforeRegex.has(prev.text)) || (prev.kind === 'word' && regexAfterWord.has(prev.text));
      if (isRegex) {
        let j = i + 1;
        let inClass = false;
        while (j < src.length && src[j] !== '\n') {
          if (src[j] === '\\') { j += 2; continue; }
          if (src[j] === '[') inClass = true;
          else if (src[j] === ']') inClass = false;
          else if (src[j] === '/' && !inClass) break;
          j++;
        }
        j++;
        while (j < src.length && /[a-z]/.test(src[j] as string)) j++;
        out.push({ kind: 'punct', text: 'regex', at: i });
        i = j;
        continue;
      }
    }
    const word = /^[A-Za-z_$][\w$]*/.exec(src.slice(i, i + 64));
    if (word) { out.push({ kind: 'word', text: word[0], at: i }); i += word[0].length; continue; }
    const num = /^[0-9][\w.]*/.exec(src.slice(i, i + 64));
    if (num) { out.push({ kind: 'word', text: num[0], at: i }); i += num[0].length; continue; }
    out.push({ kind: 'punct', text: c, at: i });
    i++;
  }
  return out;
}

const callers = new Set(['describe', 'it', 'test']);
/** Modifiers that keep a call a test or a suite (`it.skip` is deliberately absent: a skipped test proves nothing). */
const modifiers = new Set(['only', 'concurrent', 'sequential', 'each', 'for']);

/** Index of the token after the `)` matching the `(` at `open`. */
function afterParens(tokens: Token[], open: number): number {
  let depth = 0;
  for (let k = open; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind !== 'punct') continue;
    if (t.text === '(') depth++;
    else if (t.text === ')' && --depth === 0) return k + 1;
  }
  return tokens.length;
}

/** Every test of the source, as full paths ("suite > test") and bare titles. */
export function testTitles(src: string): { paths: Set<string>; titles: Set<string> } {
  const tokens = tokenize(src);
  const paths = new Set<string>();
  const titles = new Set<string>();
  // Open suites: title and the parenthesis depth their call opened at.
  const suites: { title: string; depth: number }[] = [];
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as Token;
    if (t.kind === 'punct' && t.text === '(') { depth++; continue; }
    if (t.kind === 'punct' && t.text === ')') {
      depth--;
      while (suites.length && (suites[suites.length - 1] as { depth: number }).depth > depth) suites.pop();
      continue;
    }
    if (t.kind !== 'word' || !callers.has(t.text)) continue;
    const prev = tokens[k - 1];
    if (prev && prev.kind === 'punct' && prev.text === '.') continue;
    // Walk `.modifier` chains; `.each(table)` is followed by the real call.
    let m = k + 1;
    let skipped = false;
    while (tokens[m]?.text === '.' && tokens[m + 1]?.kind === 'word') {
      const mod = (tokens[m + 1] as Token).text;
      if (!modifiers.has(mod)) skipped = true;
      m += 2;
      if ((mod === 'each' || mod === 'for') && tokens[m]?.text === '(') m = afterParens(tokens, m);
    }
    if (tokens[m]?.text !== '(' || tokens[m + 1]?.kind !== 'string' || skipped) continue;
    const title = (tokens[m + 1] as Token).text;
    if (t.text === 'describe') {
      // The suite lasts until the `(` at token m closes; its depth is counted when we reach it.
      suites.push({ title, depth: depth + 1 });
    } else {
      titles.add(title);
      paths.add([...suites.map((s) => s.title), title].join(' > '));
    }
    // Continue scanning from the `(` so it is counted; the loop's k++ lands on it next.
    k = m - 1;
  }
  return { paths, titles };
}
