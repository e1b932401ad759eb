/**
 * Peer-to-peer for two (issue #17) where the direct path can never work: the patient's phone
 * (phoneNetwork 80) reaches only the service's address, as on a practice network that allows
 * only the service's media ports. The call stays on the SFU with picture and sound both ways,
 * and the page that gave up on the direct connection says why (page telemetry), counted in
 * /metrics; no time to the direct path is reported.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestBrowser, launchBrowser } from '../helpers/browser.js';
import { admitOn, createConsultation } from '../helpers/journey.js';
import { sample } from '../helpers/metrics.js';
import { type PhoneNet, canMakePhoneNet, phoneNetwork } from '../helpers/netns.js';
import { type TestServer, startServer } from '../helpers/server.js';

let net: PhoneNet;
let server: TestServer;
let phone: TestBrowser;
let host: TestBrowser;
/** The service listens on the namespace's address, not loopback: /metrics wants a token there. */
const METRICS_TOKEN = 'p2p-fallback-metrics-token';

beforeAll(async () => {
  if (!canMakePhoneNet()) throw new Error('these tests need root, ip, tc and nft');
  net = await phoneNetwork(80);
  server = await startServer({ p2pMode: 'prefer', host: net.serviceAddress, rtcListenIp: net.serviceAddress, announcedAddress: net.serviceAddress, metricsToken: METRICS_TOKEN });
  phone = await net.launch({ url: server.url });
  host = await launchBrowser(1, { args: [`--unsafely-treat-insecure-origin-as-secure=${server.url}`] });
}, 60_000);
afterAll(async () => {
  await host?.close();
  await net?.close();
  await server?.close();
});

const scrape = async () => (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
const fallbacks = (text: string) => ['failed', 'slow', 'frozen'].reduce((n, r) => n + (sample(text, `openconsult_p2p_page_fallbacks_total{reason="${r}"}`) ?? 0), 0);
const directs = (text: string) => ['patient', 'clinician'].reduce((n, r) => n + (sample(text, `openconsult_p2p_direct_seconds_count{role="${r}"}`) ?? 0), 0);

describe('peer-to-peer that cannot connect', () => {
  it('stays on the SFU with picture and sound, and the pages report the fallback to /metrics', { timeout: 90_000 }, async () => {
    // Only the service's address, before anyone joins: the direct connection never connects.
    net.onlyService();
    try {
      const before = await scrape();
      const created = await createConsultation(server);
      const patient = await phone.participant({ phone: true });
      const clinician = await host.participant();
      await admitOn(patient, clinician, created);

      // Both tried, gave up (not decoding within 8 s) and are on the SFU.
      for (const page of [patient, clinician]) {
        await page.waitForFunction(async () => {
          const s = await window.openconsult.stats();
          return s.mediaPath === 'sfu' && window.openconsult.timeline.some(([l]) => l === 'path:probing');
        }, { timeout: 30_000, polling: 200 });
      }
      const deadline = Date.now() + 15_000;
      let text = await scrape();
      while (fallbacks(text) <= fallbacks(before) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        text = await scrape();
      }
      const timelines = await Promise.all([patient, clinician].map((p) => p.evaluate(() => window.openconsult.timeline.filter(([l]) => /^(path|direct|p2p-fallback|p2p-in:sfu)/.test(l)))));
      console.log(`fallbacks reported: ${fallbacks(text) - fallbacks(before)}; ${JSON.stringify(timelines)}`);
      expect(fallbacks(text) - fallbacks(before)).toBeGreaterThanOrEqual(1);
      expect(fallbacks(text) - fallbacks(before)).toBeLessThanOrEqual(2);
      expect(directs(text)).toBe(directs(before));

      // Nobody is stuck: picture and sound keep coming through the SFU, both ways.
      for (const page of [patient, clinician]) {
        const b = await page.evaluate(async () => {
          const s = await window.openconsult.stats();
          return { frames: s.video.reduce((n, v) => n + v.framesDecoded, 0), packets: s.audio.reduce((n, a) => n + a.packetsReceived, 0) };
        });
        await page.waitForFunction(async (b0: { frames: number; packets: number }) => {
          const s = await window.openconsult.stats();
          const frames = s.video.filter((v) => v.via !== 'p2p').reduce((n, v) => n + v.framesDecoded, 0);
          const packets = s.audio.filter((a) => a.via !== 'p2p').reduce((n, a) => n + a.packetsReceived, 0);
          return frames > b0.frames + 20 && packets > b0.packets + 50;
        }, { timeout: 15_000, polling: 200 }, b);
        expect(await page.evaluate(async () => (await window.openconsult.stats()).mediaPath)).toBe('sfu');
      }
    } finally {
      net.removeRules('oc_only_service');
    }
  });
});
