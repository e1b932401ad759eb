/**
 * The whole journey in real Chromium with fake camera and microphone, through the real server
 * and a real mediasoup worker: a practice system creates a consultation, the patient opens the
 * SMS link on a phone-sized page, checks camera and mic, joins and waits; the clinician opens
 * their link, admits, both decode each other's video and receive audio; the clinician ends it.
 */
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, received, waitForText } from '../helpers/browser.js';
import { createConsultation } from '../helpers/journey.js';
import { type TestServer, startServer } from '../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer();
});

afterEach(async () => {
  await closeParticipants();
});

afterAll(async () => {
  await server?.close();
});


/** Samples what a page receives once a second and checks both keep growing for `seconds`. */
async function expectMediaFlowing(page: Page, seconds: number): Promise<void> {
  let last = await received(page);
  for (let i = 0; i < seconds; i++) {
    await page.waitForFunction(
      async (frames: number, packets: number) => {
        const s = await window.openconsult.stats();
        return s.video.reduce((n, v) => n + v.framesDecoded, 0) > frames && s.audio.reduce((n, a) => n + a.packetsReceived, 0) > packets;
      },
      { timeout: 5_000, polling: 1_000 },
      last.framesDecoded, last.audioPackets,
    );
    const now = await received(page);
    expect(now.framesDecoded).toBeGreaterThan(last.framesDecoded);
    expect(now.audioPackets).toBeGreaterThan(last.audioPackets);
    last = now;
  }
  expect(last.frameWidth).toBeGreaterThan(0);
}

async function firstFrame(page: Page): Promise<void> {
  await page.waitForFunction(async () => {
    const s = await window.openconsult.stats();
    return s.video.some((v) => v.framesDecoded > 0);
  }, { timeout: 20_000, polling: 25 });
}

describe('a video consultation, end to end', () => {
  it('patient waits, clinician admits, both see and hear each other, clinician ends it', async () => {
    const c = await createConsultation(server);

    const patient = await openParticipant({ phone: true });
    await patient.goto(c.patientUrl);
    await waitForText(patient, 'Check your camera and microphone');
    await patient.waitForFunction(() => (document.getElementById('check-video') as HTMLVideoElement).videoWidth > 0);
    // Only Join redeems the link (and so connects) and puts them in the waiting room.
    expect(await patient.evaluate(() => window.openconsult.timeline.some(([m]) => m === 'redeemed' || m === 'connected'))).toBe(false);
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('created');
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('waiting');

    const clinician = await openParticipant();
    await clinician.goto(c.clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    await clinician.waitForFunction(() => document.title.startsWith('(1) waiting'));

    const admitAt = Date.now();
    await clickButton(clinician, 'Admit');
    await Promise.all([firstFrame(patient), firstFrame(clinician)]);
    const admitToFrames = Date.now() - admitAt;
    console.log(`admit -> first remote frame on both sides: ${admitToFrames} ms`);
    for (const [who, page] of [['patient', patient], ['clinician', clinician]] as const) {
      console.log(who, JSON.stringify(await page.evaluate(() => window.openconsult.timeline)));
    }
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('in_call');

    // Each side shows the other's video in a <video> element and keeps decoding it.
    for (const page of [patient, clinician]) {
      expect(await page.$$eval('#remotes video', (vs) => vs.filter((v) => (v as HTMLVideoElement).srcObject !== null).length)).toBe(1);
    }
    await Promise.all([expectMediaFlowing(patient, 3), expectMediaFlowing(clinician, 3)]);
    // Both pages reported their admit-to-first-frame time for the operators' histogram.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(Number(/openconsult_first_frame_seconds_count\{[^}]*role="patient"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBe(1);
    expect(Number(/openconsult_first_frame_seconds_count\{[^}]*role="clinician"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0)).toBe(1);
    await waitForText(patient, 'Dr Bell is in the call');

    await clickButton(clinician, 'End consultation');
    await waitForText(patient, 'The consultation has ended');
    await waitForText(clinician, 'The consultation has ended');
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('ended');
    // Nothing of the call stays in the page.
    expect(await patient.$$eval('video', (vs) => vs.every((v) => (v as HTMLVideoElement).srcObject === null))).toBe(true);

  });

  it('refuses the same link in another browser with a page that says what to do', async () => {
    const c = await createConsultation(server);
    const first = await openParticipant({ phone: true });
    await first.goto(c.patientUrl);
    await waitForText(first, 'Check your camera and microphone');
    // The link was fresh, so the page asked for the camera at once; it redeems only on Join.
    const marks = new Map(await first.evaluate(() => window.openconsult.timeline));
    expect(marks.has('camera-asked')).toBe(true);
    expect(marks.has('redeemed')).toBe(false);
    await clickButton(first, 'Join');
    await waitForText(first, 'You are in the waiting room');

    // A reload in the same browser continues with its session, asking for the camera meanwhile...
    await first.reload();
    await waitForText(first, 'Check your camera and microphone');
    const again = new Map(await first.evaluate(() => window.openconsult.timeline));
    expect(again.get('camera-asked')).toBeLessThan(again.get('redeemed') as number);

    // ...while another device is told the link is spent and what to do.
    const second = await openParticipant({ phone: true });
    await second.evaluateOnNewDocument(() => {
      const w = window as unknown as { cameraAsks: number };
      w.cameraAsks = 0;
      const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
      navigator.mediaDevices.getUserMedia = (c) => {
        w.cameraAsks++;
        return original(c);
      };
    });
    await second.goto(c.patientUrl);
    await waitForText(second, 'This link has already been used');
    await waitForText(second, 'Ask the practice for a new one');
    expect(await second.$eval('#view-check', (e) => (e as HTMLElement).hidden)).toBe(true);
    // A spent link never asks for the camera.
    expect(await second.evaluate(() => (window as unknown as { cameraAsks: number }).cameraAsks)).toBe(0);

  });

  it('lets the patient leave and the clinician see that they left', async () => {
    const c = await createConsultation(server);
    const patient = await openParticipant({ phone: true });
    await patient.goto(c.patientUrl);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    const clinician = await openParticipant();
    await clinician.goto(c.clinicianUrl);
    await clickButton(clinician, 'Join');
    await clickButton(clinician, 'Admit');
    await firstFrame(clinician);

    await clickButton(patient, 'Leave');
    await waitForText(patient, 'You have left the consultation');
    // The clinician's page drops the patient's video and says nobody else is in the call.
    await waitForText(clinician, 'Nobody else is in the call yet');
    expect(await clinician.$$('#remotes video')).toHaveLength(0);

  });

  it("shows the patient's video after Admit when their browser has just switched off its top simulcast layer", async () => {
    // Chromium switches off its top layer when its bandwidth estimate dips in the first second of
    // sending. mediasoup still aims a new consumer at that layer while its last bits are in its
    // 2.5 s window, so the first picture used to wait 1-2.2 s for mediasoup's key frame retries
    // (server/media/first-picture.ts). Switched off here on purpose, just before Admit: the server
    // must fall back to the lowest layer for the first picture. (How soon the picture comes is
    // for the join benchmark to measure, not for a test.)
    const fallbacks = async () => Number(/^openconsult_first_picture_fallbacks_total (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1]);
    const before = await fallbacks();
    const c = await createConsultation(server);
    const patient = await openParticipant({ phone: true });
    await patient.evaluateOnNewDocument(() => {
      const Native = window.RTCPeerConnection;
      const pcs: RTCPeerConnection[] = [];
      (window as unknown as { testPcs: RTCPeerConnection[] }).testPcs = pcs;
      window.RTCPeerConnection = class extends Native {
        constructor(config?: RTCConfiguration) {
          super(config);
          pcs.push(this);
        }
      };
    });
    await patient.goto(c.patientUrl);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    const switchOffTopLayer = () => patient.evaluate(async () => {
      for (const pc of (window as unknown as { testPcs: RTCPeerConnection[] }).testPcs) {
        for (const s of pc.getSenders()) {
          const p = s.getParameters();
          if (s.track?.kind !== 'video' || p.encodings.length < 2) continue;
          const top = p.encodings[p.encodings.length - 1];
          if (!top) continue;
          top.active = false;
          await s.setParameters(p);
          return true;
        }
      }
      return false;
    });
    // The top layer has sent (its bits are in mediasoup's window) before it stops.
    await patient.waitForFunction(async () => {
      for (const pc of (window as unknown as { testPcs: RTCPeerConnection[] }).testPcs) {
        let sent = false;
        (await pc.getStats()).forEach((s: { type: string; kind?: string; rid?: string; framesEncoded?: number }) => {
          if (s.type === 'outbound-rtp' && s.kind === 'video' && s.rid === 'r1' && (s.framesEncoded ?? 0) > 0) sent = true;
        });
        if (sent) return true;
      }
      return false;
    }, { timeout: 10_000, polling: 100 });

    const clinician = await openParticipant();
    await clinician.goto(c.clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    expect(await switchOffTopLayer()).toBe(true);
    await clickButton(clinician, 'Admit');
    await firstFrame(clinician);
    expect(await fallbacks()).toBeGreaterThan(before);
    await expectMediaFlowing(clinician, 2);
  });
});
