/**
 * The connection check on the check step (real Chromium, real mediasoup, real coturn, real
 * nftables): with nothing in the way it finds media goes directly, and the clinician sees
 * "video: direct" beside the waiting patient's name; with UDP and the media ports blocked on the
 * phone's own network (phoneNetwork 60 and 61) it finds the TURN relay over TCP; with the relay
 * blocked too it says the connection may not carry video, with what to do, and Join still works.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { type Coturn, startCoturn } from '../helpers/coturn.js';
import { createConsultation } from '../helpers/journey.js';
import { type PhoneNet, canMakePhoneNet, phoneNetwork } from '../helpers/netns.js';
import { freePort } from '../helpers/process.js';
import { type TestServer, startServer } from '../helpers/server.js';

const SECRET = 'coturn-connection-check-secret';
const RTC_MIN = 47600;
const RTC_MAX = 47699;
const artifacts = path.resolve('test-artifacts');
/** Direct (up to 6 s), then the relay (up to 6 s), on a loaded machine. */
const CHECK_TIMEOUT = 45_000;

const servers: TestServer[] = [];
let net: PhoneNet | undefined;
let coturn: Coturn | undefined;

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
});
afterEach(async () => {
  await closeParticipants();
  await net?.close();
  net = undefined;
  await coturn?.close();
  coturn = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await closeParticipants();
});

/** Resolves to what the check step says once its check is over. */
async function checkResult(page: Page): Promise<{ kind: string; text: string }> {
  await page.waitForSelector('#connection-check:not([data-kind="checking"])', { timeout: CHECK_TIMEOUT });
  return page.$eval('#connection-check', (e) => ({ kind: (e as HTMLElement).dataset.kind ?? '', text: e.textContent ?? '' }));
}

/** A server on a phone network's service address, its TURN relay there too, and the phone's own rules. */
async function onPhoneNetwork(n: number, rules: (turnPort: number) => string): Promise<{ server: TestServer; phone: Page }> {
  net = await phoneNetwork(n);
  const turnPort = await freePort();
  coturn = await startCoturn({ port: turnPort, secret: SECRET, relayMinPort: 47700, relayMaxPort: 47799, alsoListenOn: net.serviceAddress });
  const server = await startServer({
    host: net.serviceAddress, rtcListenIp: net.serviceAddress, announcedAddress: net.serviceAddress,
    rtcMinPort: RTC_MIN, rtcMaxPort: RTC_MAX,
    turnUrls: [`turn:${net.serviceAddress}:${turnPort}?transport=tcp`], turnSecret: SECRET,
  });
  servers.push(server);
  net.rules('oc_check', rules(turnPort));
  const browser = await net.launch({ url: server.url });
  const phone = await browser.participant({ phone: true });
  return { server, phone };
}

const blockMedia = (also = '') => `
  chain out {
    type filter hook output priority 0; policy accept;
    meta l4proto udp drop
    tcp dport ${RTC_MIN}-${RTC_MAX} drop
    ${also}
  }`;

describe('the connection check on the check step', () => {
  it('finds media goes directly, says so, and the clinician sees "video: direct" beside the waiting patient', async () => {
    const server = await startServer();
    servers.push(server);
    const { patientUrl, clinicianUrl } = await createConsultation(server);
    const patient = await openParticipant({ phone: true });
    await patient.goto(patientUrl);

    expect(await checkResult(patient)).toEqual({ kind: 'direct', text: 'Your connection is good for video.' });
    await patient.screenshot({ path: path.join(artifacts, 'connection-check-direct-360x740.png') as `${string}.png` });
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');

    const clinician = await openParticipant();
    await clinician.goto(clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting', 20_000);
    await clinician.waitForFunction(() => document.querySelector('#waiting-list')?.textContent?.includes('(video: direct)'), { timeout: 20_000 });
  }, 90_000);

  it('finds the TURN relay over TCP when UDP and the media ports are blocked', async () => {
    if (!canMakePhoneNet()) throw new Error('this test needs root, ip, tc and nft');
    const { server, phone } = await onPhoneNetwork(60, () => blockMedia());
    const { patientUrl } = await createConsultation(server);
    await phone.goto(patientUrl);

    expect(await checkResult(phone)).toEqual({
      kind: 'relay', text: "Your connection should carry video, through the practice's relay. It may be a little slower.",
    });
  }, 90_000);

  it('says the connection may not carry video, with what to do, when the relay is blocked too; Join still works', async () => {
    if (!canMakePhoneNet()) throw new Error('this test needs root, ip, tc and nft');
    const { server, phone } = await onPhoneNetwork(61, (turnPort) => blockMedia(`tcp dport ${turnPort} drop`));
    const { patientUrl } = await createConsultation(server);
    await phone.goto(patientUrl);

    expect(await checkResult(phone)).toEqual({
      kind: 'none', text: 'Your connection may not carry video. Try another Wi-Fi, or turn Wi-Fi off and use mobile data.',
    });
    await phone.screenshot({ path: path.join(artifacts, 'connection-check-none-360x740.png') as `${string}.png` });
    await clickButton(phone, 'Join');
    await waitForText(phone, 'You are in the waiting room');
  }, 90_000);
});
