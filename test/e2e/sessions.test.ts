/**
 * Sessions in real browsers (issue #13): a clinician's browser does not pile up cookies of
 * consultations that are over (item 4), and the clinician removes someone with a real button,
 * after which that person's session and link no longer work (item 2).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { admittedCall, createConsultation } from '../helpers/journey.js';
import { type TestServer, codeOf, startServer } from '../helpers/server.js';

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

describe('session cookies in a clinician\'s browser', () => {
  // Today's code: 431 at the 39th; behind nginx's default 8 KiB header buffer, at about the 19th.
  it('go through 40 consultations one after another, and the 41st still opens, holding only open consultations\' cookies', async () => {
    const clinician = await openParticipant();
    await clinician.goto(`${server.url}/healthz`);
    for (let i = 1; i <= 40; i++) {
      const { id, clinicianUrl } = await createConsultation(server);
      // The browser's own requests with its own cookie jar, as the link page makes them (GET the
      // page, POST the redemption), without running 40 camera checks.
      const statuses = await clinician.evaluate(async (code: string) => [
        (await fetch(`/j/${code}`)).status,
        (await fetch(`/api/v1/links/${code}/redeem`, { method: 'POST' })).status,
      ], codeOf(clinicianUrl));
      expect(statuses, `consultation ${i}`).toEqual([200, 200]);
      expect((await server.api('POST', `/api/v1/consultations/${id}/end`)).status).toBe(200);
    }
    const last = await createConsultation(server);
    await clinician.goto(last.clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Nobody else is in the call yet.');
    const names = (await clinician.cookies()).map((c) => c.name);
    expect(names).toEqual([`oc_s_${last.id}`]);
  });
});

describe('the ended page', () => {
  it('expires the session cookie of the consultation that just ended, without waiting for the next link', async () => {
    const clinician = await openParticipant();
    const { id, clinicianUrl } = await createConsultation(server);
    await clinician.goto(clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Nobody else is in the call yet.');
    expect((await clinician.cookies()).map((c) => c.name)).toEqual([`oc_s_${id}`]);

    const expired = clinician.waitForResponse((r) => r.url().endsWith('/api/v1/sessions/expire-done'), { timeout: 10_000 });
    expect((await server.api('POST', `/api/v1/consultations/${id}/end`)).status).toBe(200);
    await waitForText(clinician, 'The consultation has ended');
    expect((await expired).status()).toBe(204);
    expect(await clinician.cookies()).toEqual([]);
  });
});

describe('removing someone', () => {
  it('the clinician removes the patient with "Remove Ann Example"; the patient cannot come back on the same link', async () => {
    const { id, patient, clinician } = await admittedCall(server);
    // In the call now (not the waiting room row's button, which goes with the admission).
    await clinician.waitForSelector('#people-list li button');
    await clickButton(clinician, 'Remove Ann Example');
    await waitForText(patient, 'You are no longer in this consultation');
    // Their row goes with them.
    await clinician.waitForFunction(() => document.querySelector('#people-list li') === null, { timeout: 15_000 });
    const got = (await server.api('GET', `/api/v1/consultations/${id}`)).body as { participants: { role: string; presence: string }[] };
    expect(got.participants.find((p) => p.role === 'patient')?.presence).toBe('left');

    // The same browser, the same link: its session and the link are revoked.
    await patient.reload();
    await waitForText(patient, 'already been used');
    expect(await patient.$$('#remotes video')).toHaveLength(0);
  });
});
