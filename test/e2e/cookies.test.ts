/**
 * A clinician's browser collects one session cookie per consultation. Those of consultations that
 * are over are expired on the next link, and each lives only as long as its consultation can, so
 * a busy day never makes the request headers too big (today's code: 431 at the 39th; behind
 * nginx's 8 KiB buffer at about the 19th). Issue #13, item 4.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { codeOf } from '../helpers/server.js';
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

describe('session cookies in a clinician\'s browser', () => {
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
