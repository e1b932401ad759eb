/**
 * Builds the browser assets into dist/public: the join page's script bundle (mediasoup-client
 * and socket.io-client included), its stylesheet and HTML. Run by `npm run build` and by the
 * test set-up; cheap enough (well under a second) to run every time.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const outDir = path.join(root, 'dist', 'public');

export async function buildClient(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: { join: path.join(root, 'client', 'join.ts') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    // Older phones: Chrome 80 and Safari 14 are still seen on patients' devices.
    target: 'es2020',
    minify: true,
    sourcemap: true,
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  });
  for (const f of ['join.html', 'index.html', 'app.css']) {
    await copyFile(path.join(root, 'client', f), path.join(outDir, f));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildClient();
}
