/**
 * Page weight: the JavaScript and CSS the patient's page loads before its check step is ready,
 * captured from a real Chromium load of a fresh SMS link (so it is what the page really fetches,
 * not a guess from dist/), then compressed the way a server or proxy would: gzip level 6 (zlib's
 * and nginx's usual setting) and brotli quality 11 (static pre-compression). Baseline: the bare
 * page, bundled with the same esbuild settings.
 */
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { HTTPResponse } from 'puppeteer-core';
import { launchBrowser } from '../../test/helpers/browser.js';
import { type Host, startHost } from './lib/host.js';
import { type Figure, figure } from './lib/report.js';

interface Resource {
  url: string;
  type: string;
  /** Requested before the check step was ready (the rest is fetched while the person checks their camera). */
  beforeCheck: boolean;
  bytes: number;
  gzip: number;
  brotli: number;
  servedEncoding: string;
}

interface Sizes { raw: number; gzip: number; brotli: number }

interface Weight {
  resources: Resource[];
  /** Before the check step is ready. */
  js: Sizes;
  css: Sizes;
  /** Everything the page has fetched once the network is idle after the check step: what Join needs. */
  jsTotal: Sizes;
}

async function weigh(url: string): Promise<Weight> {
  const b = await launchBrowser();
  try {
    const page = await b.participant({ phone: true });
    const responses: HTTPResponse[] = [];
    page.on('response', (r) => responses.push(r));
    await page.goto(url);
    await page.waitForFunction(() => {
      const btn = document.getElementById('join-button') as HTMLButtonElement | null;
      const v = document.getElementById('check-video') as HTMLVideoElement | null;
      return !!btn && !btn.disabled && !!v && v.videoWidth > 0;
    }, { timeout: 20_000, polling: 20 });
    // The page's own mark when it enables Join, else now; then whatever it fetches afterwards.
    const cut = await page.evaluate(() => {
      const t = (window as unknown as { openconsult?: { timeline: [string, number][] } }).openconsult?.timeline;
      return t?.find(([m]) => m === 'check-ready')?.[1] ?? performance.now();
    });
    await page.waitForNetworkIdle({ idleTime: 500, timeout: 20_000 });
    const started = new Map(await page.evaluate(() =>
      (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).map((r) => [r.name, r.startTime] as [string, number])));
    const resources: Resource[] = [];
    for (const r of responses) {
      const type = r.request().resourceType();
      // Everything fetched is listed (fonts and images too); the figures sum scripts and styles.
      if (type === 'xhr' || type === 'fetch' || type === 'websocket' || type === 'media' || r.status() >= 400) continue;
      const body = await r.buffer().catch(() => Buffer.alloc(0));
      resources.push({
        url: new URL(r.url()).pathname.replace(/\/j\/.+$/, '/j/<code>'),
        type,
        beforeCheck: type === 'document' || (started.get(r.url()) ?? 0) <= cut,
        bytes: body.length,
        gzip: gzipSync(body, { level: 6 }).length,
        brotli: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }).length,
        servedEncoding: r.headers()['content-encoding'] ?? 'identity',
      });
    }
    const sum = (t: string, all = false): Sizes => {
      const rs = resources.filter((r) => r.type === t && (all || r.beforeCheck));
      return { raw: rs.reduce((n, r) => n + r.bytes, 0), gzip: rs.reduce((n, r) => n + r.gzip, 0), brotli: rs.reduce((n, r) => n + r.brotli, 0) };
    };
    return { resources, js: sum('script'), css: sum('stylesheet'), jsTotal: sum('script', true) };
  } finally {
    await b.close();
  }
}

export async function benchPageWeight(opts: { log: (line: string) => void }): Promise<{ figures: Figure[]; ours: Weight; bare: Weight }> {
  let ours: Host | undefined;
  let bare: Host | undefined;
  try {
    [ours, bare] = await Promise.all([startHost('ours'), startHost('bare-media')]);
    const [c] = await ours.child.call<{ patientUrl: string }[]>('createConsultations', { n: 1 });
    if (!c) throw new Error('no consultation created');
    const o = await weigh(c.patientUrl);
    const b = await weigh(`${bare.url}/?room=weight`);
    for (const [who, w] of [['ours', o], ['bare', b]] as const) {
      for (const r of w.resources) opts.log(`page ${who}: ${r.type} ${r.url} ${r.bytes} B, gzip ${r.gzip} B, brotli ${r.brotli} B, served ${r.servedEncoding}, ${r.beforeCheck ? 'before the check step' : 'after the check step'}`);
    }
    const kb = (n: number) => n / 1024;
    const servedPlain = o.resources.filter((r) => r.type !== 'document').every((r) => r.servedEncoding === 'identity');
    const gz = kb(o.js.gzip);
    return {
      figures: [
        figure({
          bench: 'page', figure: 'patient JS before check step, gzip', unit: 'KB', ours: gz, bare: kb(b.js.gzip),
          target: '<= 75 KB', met: gz <= 75,
          note: servedPlain ? `the service sends it uncompressed (${kb(o.js.raw + o.css.raw).toFixed(0)} KB on the wire unless a proxy compresses)` : undefined,
        }),
        figure({ bench: 'page', figure: 'patient JS before check step, brotli', unit: 'KB', ours: kb(o.js.brotli), bare: kb(b.js.brotli), target: '' }),
        figure({ bench: 'page', figure: 'patient JS before check step, raw', unit: 'KB', ours: kb(o.js.raw), bare: kb(b.js.raw), target: '' }),
        figure({
          bench: 'page', figure: 'patient JS in all (loaded by Join), gzip', unit: 'KB', ours: kb(o.jsTotal.gzip), bare: kb(b.jsTotal.gzip), target: '',
          note: 'ours fetches socket.io-client and mediasoup-client while the check step shows; bare loads them up front',
        }),
        figure({ bench: 'page', figure: 'patient CSS before check step, gzip', unit: 'KB', ours: kb(o.css.gzip), bare: kb(b.css.gzip), target: '' }),
        figure({ bench: 'page', figure: 'patient CSS before check step, brotli', unit: 'KB', ours: kb(o.css.brotli), bare: kb(b.css.brotli), target: '' }),
      ],
      ours: o,
      bare: b,
    };
  } finally {
    await Promise.all([ours?.close(), bare?.close()]);
  }
}
