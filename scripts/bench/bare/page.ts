/** Bundles the bare page with the product's esbuild settings (scripts/build-client.ts), in memory. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));

export const bareHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>bare</title>
<script type="module" src="/bare.js"></script></head>
<body><video id="check-video" autoplay playsinline muted></video>
<button id="join-button" type="button" disabled>Join</button></body></html>`;

export async function buildBarePage(): Promise<{ html: string; js: string }> {
  const out = await build({
    entryPoints: [path.join(here, 'client.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2020',
    minify: true,
    write: false,
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  const js = out.outputFiles[0]?.text;
  if (!js) throw new Error('esbuild produced no bare page bundle');
  return { html: bareHtml, js };
}
