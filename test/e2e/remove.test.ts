/**
 * The clinician removes someone from the call with a real button: the patient's page says so, the
 * patient is gone from the call, and reloading the same link does not bring them back (issue #13, 2).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, waitForText } from '../helpers/browser.js';
import { admittedCall } from '../helpers/journey.js';
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

describe('removing someone', () => {
  it('the clinician removes the patient with "Remove Ann Example"; the patient cannot come back on the same link', async () => {
    const { id, patient, clinician } = await admittedCall(server);
    // In the call now (not the waiting room row's button, which goes with the admission).
    await clinician.waitForSelector('#people-list li button');
    await clickButton(clinician, 'Remove Ann Example');
    await waitForText(patient, 'You are no longer in this consultation');
    await waitForText(clinician, 'Ann Example has been removed from the consultation.');
    const got = (await server.api('GET', `/api/v1/consultations/${id}`)).body as { participants: { role: string; presence: string }[] };
    expect(got.participants.find((p) => p.role === 'patient')?.presence).toBe('left');

    // The same browser, the same link: its session and the link are revoked.
    await patient.reload();
    await waitForText(patient, 'already been used');
    expect(await patient.$$('#remotes video')).toHaveLength(0);
  });
});
