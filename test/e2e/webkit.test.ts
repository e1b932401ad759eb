/**
 * The Safari engine (issue #18): WebKitGTK's MiniBrowser, with a mock camera and microphone,
 * against the real server. The patient confirms their date of birth, the camera check shows a
 * picture and says it works; this WebKit has no RTCPeerConnection, so the page says plainly that
 * this browser cannot make video calls, does not use the link, and offers "Phone me instead",
 * whose request reaches the practice.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, codeOf, linkIn, startServer } from '../helpers/server.js';
import { type WebKitPage, openWebKit, webKitVersion } from '../helpers/webkit.js';

const artifacts = path.resolve('test-artifacts');
let server: TestServer;
let webkit: WebKitPage | undefined;

beforeAll(async () => {
  server = await startServer();
  await mkdir(artifacts, { recursive: true });
  console.log(`WebKitGTK ${await webKitVersion()}`);
});
afterEach(async () => {
  await webkit?.close();
  webkit = undefined;
});
afterAll(async () => {
  await server?.close();
});

describe('WebKit (MiniBrowser, mock camera)', () => {
  it('confirms the date of birth, checks the camera, says it cannot make calls, keeps the link and lets the patient ask to be phoned', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900321', patientName: 'Sam Safari', patientDateOfBirth: '1984-03-15' });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const link = linkIn((await server.outbox()).find((m) => m.consultationId === id)!.body);

    webkit = await openWebKit();
    await webkit.goto(link);
    await webkit.waitFor("return document.body.innerText.includes('What is your date of birth?')");
    await webkit.run(`
      document.getElementById('dob-day').value = '15';
      document.getElementById('dob-month').value = '3';
      document.getElementById('dob-year').value = '1984';
      document.getElementById('identity-button').click();`);

    // The camera check with the mock camera: a picture, and the words that say it works.
    await webkit.waitFor("return document.getElementById('check-status').textContent.includes('Your camera and microphone are working')");
    await webkit.waitFor("return document.getElementById('check-video').videoWidth > 0");
    expect(await webkit.run<string>('return typeof RTCPeerConnection')).toBe('undefined');

    // No call possible here: said plainly, Join not offered, the way forward open.
    expect(await webkit.run<string>("return document.getElementById('inapp-warning').hidden ? '' : document.getElementById('inapp-warning').innerText"))
      .toContain('This browser cannot make video calls');
    expect(await webkit.run<boolean>("return document.getElementById('join-button').offsetParent === null")).toBe(true);
    await writeFile(path.join(artifacts, 'webkit-check-no-webrtc.png'), await webkit.screenshot());
    await webkit.run("document.querySelector('.oc-phone-me[data-where=\"check\"] button').click()");
    await webkit.waitFor("return document.body.innerText.includes('We have asked the practice to phone you')");

    const reply = await server.api('GET', `/api/v1/consultations/${id}`);
    expect(reply.body).toMatchObject({ identity: 'confirmed', callbackRequestedAt: expect.any(String) });
    // The link is still unused: it works in the browser the patient opens next.
    expect((await fetch(`${server.url}/api/v1/links/${codeOf(link)}/redeem`, { method: 'POST' })).status).toBe(200);
  });
});
