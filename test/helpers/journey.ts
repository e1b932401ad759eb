/** The common start of many browser tests: a patient waiting, a clinician who admits them. */
import type { Page } from 'puppeteer-core';
import { clickButton, openParticipant, waitForText } from './browser.js';
import { type TestServer, linkIn } from './server.js';

export interface CallPages {
  id: string;
  patient: Page;
  clinician: Page;
}

/** Creates a consultation (patient "Ann Example", clinician "Dr Bell") and lets the clinician admit the patient. */
export async function admittedCall(server: TestServer): Promise<CallPages> {
  const created = await server.api('POST', '/api/v1/consultations', {
    patientPhone: '07700 900123', patientName: 'Ann Example', clinicianName: 'Dr Bell',
  });
  const patient = await openParticipant({ phone: true });
  await patient.goto(linkIn((await server.outbox()).find((m) => m.consultationId === created.body.id)!.body));
  await clickButton(patient, 'Join');
  await waitForText(patient, 'You are in the waiting room');
  const clinician = await openParticipant();
  await clinician.goto(created.body.clinicianUrl);
  await clickButton(clinician, 'Join');
  await clickButton(clinician, 'Admit');
  return { id: created.body.id as string, patient, clinician };
}

/** Resolves once the page decodes more than `frames` video frames from others in total. */
export async function decodes(page: Page, frames = 0, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    async (n: number) => (await window.openconsult.stats()).video.reduce((s, v) => s + v.framesDecoded, 0) > n,
    { timeout, polling: 100 }, frames,
  );
}
