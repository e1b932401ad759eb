/**
 * Builds the browser assets into dist/public: the join page's script (mediasoup-client and
 * socket.io-client in a chunk it loads after the camera check), its stylesheet and HTML. Run by `npm run build` and by the
 * test set-up; cheap enough (a second or two) to run every time.
 */
import { copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Metafile, build } from 'esbuild';
import { compile } from 'sass';
import { linkPageFiles, linkPageMeta } from '../server/http/link-page.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = path.join(root, 'dist', 'public');

export async function buildClient(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  // Chunks are named by content: those of earlier builds would pile up.
  for (const name of await readdir(outDir)) {
    if (name.startsWith('chunk-')) await rm(path.join(outDir, name));
  }
  const { metafile } = await build({
    absWorkingDir: root,
    metafile: true,
    entryPoints: {
      join: path.join(root, 'client', 'join.ts'), console: path.join(root, 'client', 'console.ts'),
      signin: path.join(root, 'client', 'signin.ts'), setup: path.join(root, 'client', 'setup.ts'), admin: path.join(root, 'client', 'admin.ts'),
    },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    // The join page's media libraries go to a chunk loaded after the camera check (client/media.ts).
    splitting: true,
    chunkNames: 'chunk-[hash]',
    // Older phones: Chrome 80 and Safari 14 are still seen on patients' devices.
    target: 'es2020',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  for (const f of ['index.html', 'accessibility.html', 'app.css']) {
    await copyFile(path.join(root, 'client', f), path.join(outDir, f));
  }
  for (const f of ['join.html', 'console.html', 'signin.html', 'setup.html', 'admin.html']) {
    const html = await readFile(path.join(root, 'client', f), 'utf8');
    await writeFile(path.join(outDir, f), withModulePreloads(html, metafile));
  }
  // The link page as served for a fresh link and for this browser's own session from it
  // (server/http/link-page.ts): the same page, told by a meta tag.
  const join = await readFile(path.join(outDir, 'join.html'), 'utf8');
  for (const page of ['fresh', 'held', 'identity'] as const) {
    const tagged = join.replace('<meta charset="utf-8">', `<meta charset="utf-8">\n  ${linkPageMeta(page)}`);
    if (tagged === join) throw new Error('join.html has no <meta charset="utf-8"> to put the link tag after');
    await writeFile(path.join(outDir, linkPageFiles[page]), tagged);
  }
  await buildJoinStyles();
  await precompress();
}

/**
 * A page's script imports the chunks it shares with others; the browser would find them only
 * after fetching and parsing the script, one round trip later. <link rel="modulepreload"> names
 * them up front, so they download alongside it.
 */
function withModulePreloads(html: string, metafile: Metafile): string {
  let found = false;
  const out = html.replace(/^( *)<script type="module"(?: async)? src="\/assets\/([\w-]+\.js)"><\/script>$/m, (tag, indent: string, file: string) => {
    found = true;
    const chunks = new Set<string>();
    const visit = (out: string) => {
      for (const i of metafile.outputs[out]?.imports ?? []) {
        if (i.kind === 'import-statement' && !chunks.has(i.path)) {
          chunks.add(i.path);
          visit(i.path);
        }
      }
    };
    const entry = `dist/public/${file}`;
    if (!metafile.outputs[entry]) throw new Error(`${file} is not a built script`);
    visit(entry);
    const links = [...chunks].map((c) => `${indent}<link rel="modulepreload" href="/assets/${path.basename(c)}">\n`);
    return `${links.join('')}${tag}`;
  });
  if (!found) throw new Error('a page has no <script type="module" src="/assets/…"> to preload for');
  return out;
}

/**
 * Brotli and gzip copies beside each text asset: @fastify/static serves them to browsers that
 * accept them (preCompressed), so a phone on weak 4G gets ~60 KB of script, not ~300 KB, even
 * with no compressing proxy in front. Done once at build time, never per request.
 */
async function precompress(): Promise<void> {
  for (const name of await readdir(outDir)) {
    if (!/\.(js|css|html|svg)$/.test(name)) continue;
    const file = path.join(outDir, name);
    const data = await readFile(file);
    await writeFile(`${file}.br`, brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    await writeFile(`${file}.gz`, gzipSync(data, { level: 9 }));
  }
}

/**
 * The join page's stylesheet (client/join.scss): NHS.UK frontend's core and the components the
 * page uses, compiled from the library's Sass, with our call.css last. It blocks the patient's
 * first paint, so it is one file of 15 KB gzip (the whole library alone is 30). Served by us:
 * nothing is fetched from elsewhere at run time. The library's @font-face rules would point at
 * assets.nhs.uk, which our CSP refuses and which the Frutiger licence does not extend to us: the
 * Sass leaves them out, and the styles fall back to Arial.
 */
async function buildJoinStyles(): Promise<void> {
  const dist = path.join(root, 'node_modules', 'nhsuk-frontend', 'dist', 'nhsuk');
  // quietDeps: the library's own deprecation warnings (its Sass, not ours) are not shown; errors still throw.
  const { css } = compile(path.join(root, 'client', 'join.scss'), {
    loadPaths: [path.join(root, 'node_modules')],
    style: 'compressed',
    quietDeps: true,
  });
  // Guards, should a setting or a new version of the library bring fonts or other hosts back:
  // @font-face rules naming a host are dropped, any other URL to another host fails the build.
  const local = css.replace(/@font-face\{[^}]*https?:\/\/[^}]*\}/g, '');
  if (/https?:\/\//.test(local.replace(/http:\/\/www\.w3\.org[^)"']*/g, ''))) {
    throw new Error('join.css still refers to another host');
  }
  await writeFile(path.join(outDir, 'join.css'), local);
  await cp(path.join(dist, 'assets', 'images'), path.join(outDir, 'images'), { recursive: true });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildClient();
}
