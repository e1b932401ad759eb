/**
 * Peer-to-peer for two (issue #17) with Firefox ESR on one side: a Firefox patient and a Chromium
 * clinician, `P2P_MODE=prefer`. The direct connection between the two engines either carries the
 * call or the pages fall back to the SFU by themselves; either way both keep decoding the other's
 * picture and sound, and both pages end on the same path (nobody left waiting on a dead one).
 */
import type { Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, openParticipant } from '../helpers/browser.js';
import { closeFirefoxParticipants, openFirefoxParticipant } from '../helpers/firefox.js';
import { admitOn, createConsultation } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/wait.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ p2pMode: 'prefer' });
});
afterAll(async () => {
  await Promise.all([closeParticipants(), closeFirefoxParticipants()]);
  await server?.close();
});

/** The path the page settled on: `direct` once shown from it, `sfu` once it tried and gave up. */
async function settled(page: Page): Promise<'direct' | 'sfu'> {
  const handle = await waitUntil(page, async () => {
    const s = await window.openconsult.stats();
    if (s.mediaPath === 'direct') return 'direct';
    const tried = window.openconsult.timeline.some(([label]) => label === 'path:probing');
    return s.mediaPath === 'sfu' && tried ? 'sfu' : false;
  }, { timeout: 30_000, polling: 200 });
  return (await handle.jsonValue()) as 'direct' | 'sfu';
}

/** Frames decoded and audio packets received from the other, on whichever path shows them. */
async function shown(page: Page): Promise<{ frames: number; packets: number }> {
  return page.evaluate(async () => {
    const s = await window.openconsult.stats();
    return {
      frames: s.video.filter((v) => v.shown !== false).reduce((n, v) => n + v.framesDecoded, 0),
      packets: s.audio.filter((a) => a.shown !== false).reduce((n, a) => n + a.packetsReceived, 0),
    };
  });
}

describe('peer-to-peer with Firefox on one side', () => {
  it('goes direct between Firefox and Chromium, and both keep decoding each other', { timeout: 120_000 }, async () => {
    const created = await createConsultation(server);
    const [patient, clinician] = await Promise.all([openFirefoxParticipant({ phone: true }), openParticipant()]);
    await admitOn(patient, clinician, created);

    const paths = await Promise.all([settled(patient), settled(clinician)]);
    const timelines = await Promise.all([patient, clinician].map((p) => p.evaluate(() => window.openconsult.timeline.filter(([l]) => /^(path|direct|p2p-fallback):/.test(l)))));
    console.log(`Firefox patient: ${paths[0]}, Chromium clinician: ${paths[1]}; ${JSON.stringify(timelines)}`);
    // Both on the same path, and it stays: no side shows a path the other has left.
    expect(paths[0]).toBe(paths[1]);
    for (const page of [patient, clinician]) {
      const before = await shown(page);
      await waitUntil(page, async (b: { frames: number; packets: number }) => {
        const s = await window.openconsult.stats();
        const frames = s.video.filter((v) => v.shown !== false).reduce((n, v) => n + v.framesDecoded, 0);
        const packets = s.audio.filter((a) => a.shown !== false).reduce((n, a) => n + a.packetsReceived, 0);
        return frames > b.frames + 20 && packets > b.packets + 50;
      }, { timeout: 20_000, polling: 200 }, before);
    }
    const after = await Promise.all([patient, clinician].map((p) => p.evaluate(async () => (await window.openconsult.stats()).mediaPath)));
    expect(after).toEqual(paths);
    // Two engines on one machine reach each other: the direct path works with Firefox too.
    expect(paths).toEqual(['direct', 'direct']);
    // Firefox's own statistics name the selected pair: between the two browsers, no relay.
    const pair = await patient.evaluate(async () => (await window.openconsult.stats()).direct);
    expect(pair?.localType).toMatch(/^(host|srflx|prflx)$/);
    expect(pair?.remoteType).toMatch(/^(host|srflx|prflx)$/);
  });
});
