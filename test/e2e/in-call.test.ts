/**
 * What the clinician can do besides talking: a message to the waiting patient, screen sharing
 * (its own tile on the patient's side, gone when sharing stops), and text chat both ways.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../helpers/browser.js';
import { createConsultation, decodes, waitingPatient } from '../helpers/journey.js';
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

describe('in the call', () => {
  it('messages the waiting patient, shares the screen, and chats both ways', async () => {
    const { id, clinicianUrl, patient } = await waitingPatient(server);
    const clinician = await openParticipant();
    await clinician.goto(clinicianUrl);
    await clickButton(clinician, 'Join');
    await waitForText(clinician, 'Ann Example is waiting');
    await clinician.type('input[id^="waiting-message-"]', 'Running about 10 minutes late, sorry.');
    await clickButton(clinician, 'Send message to Ann Example');
    await waitForText(patient, 'Message from the practice');
    await waitForText(patient, 'Running about 10 minutes late, sorry.');

    await clickButton(clinician, 'Admit');
    await decodes(patient, 10);

    await clickButton(clinician, 'Share screen');
    await patient.waitForSelector('figure[id$="-screen"] video');
    await waitForText(patient, "Dr Bell's screen");
    await patient.waitForFunction(async () => {
      const per: Record<string, number> = {};
      for (const v of (await window.openconsult.stats()).video) per[v.participantId] = (per[v.participantId] ?? 0) + 1;
      return Object.values(per).some((n) => n === 2); // camera and screen from the clinician
    }, { timeout: 15_000, polling: 200 });
    await clickButton(clinician, 'Stop sharing screen');
    await patient.waitForFunction(() => document.querySelector('figure[id$="-screen"]') === null, { timeout: 10_000 });
    expect(await patient.$$('#remotes video')).toHaveLength(1);

    // On the phone the messages are a panel, opened by its button (issue #18).
    await clickButton(patient, 'Messages');
    await patient.type('#chat-input', 'Can you see the rash now?');
    await clickButton(patient, 'Send message');
    await waitForText(clinician, 'Ann Example: Can you see the rash now?');
    await clinician.type('#chat-input', 'Yes, clearly.');
    await clickButton(clinician, 'Send message');
    await waitForText(patient, 'Dr Bell: Yes, clearly.');
    await waitForText(patient, 'You: Can you see the rash now?');

    // Chat is relayed, never stored: the audit log has no trace of it.
    const events = JSON.stringify((await server.api('GET', `/api/v1/consultations/${id}/events`)).body);
    expect(events).not.toContain('rash');
    expect(events).toContain('waiting_message_sent');
  });

  it('switches camera on a two-camera phone (a new track replaces the old), and the other side keeps receiving video', async () => {
    const created = await createConsultation(server);
    const patient = await openParticipant({ phone: true, cameras: 2 });
    await patient.goto(created.patientUrl);
    await waitForText(patient, 'Your camera and microphone are working');
    const trackId = () => patient.evaluate(() => ((document.getElementById('check-video') as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0]?.id);
    const first = await trackId();
    await clickButton(patient, 'Switch camera'); // on the check step
    await patient.waitForFunction((id) => ((document.getElementById('check-video') as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0]?.id !== id, {}, first);
    await clickButton(patient, 'Join');
    await waitForText(patient, 'You are in the waiting room');
    const clinician = await openParticipant();
    await clinician.goto(created.clinicianUrl);
    await clickButton(clinician, 'Join');
    await clickButton(clinician, 'Admit');
    await decodes(clinician, 10);

    const inCall = await trackId().catch(() => undefined);
    await clickButton(patient, 'Switch camera'); // in the call: the producer swaps its track
    await patient.waitForFunction((id) => ((document.getElementById('self-video') as HTMLVideoElement).srcObject as MediaStream).getVideoTracks()[0]?.id !== id, {}, inCall);
    const before = await clinician.evaluate(async () => (await window.openconsult.stats()).video.reduce((s, v) => s + v.framesDecoded, 0));
    await decodes(clinician, before + 20);
  });
});
