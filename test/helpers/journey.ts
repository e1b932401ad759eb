/** The common start of many browser tests: a patient waiting, a clinician who admits them. */
import type { Page } from 'puppeteer-core';
import { clickButton, openParticipant, waitForText } from './browser.js';
import { type TestServer, linkIn } from './server.js';

/** What the journeys use of a service: one server, or a region behind its balancer. */
export type Service = Pick<TestServer, 'api' | 'outbox'>;

export interface CallPages {
  id: string;
  patient: Page;
  clinician: Page;
}

export interface Created {
  id: string;
  clinicianUrl: string;
  /** The link in the patient's SMS. */
  patientUrl: string;
}

/** Creates a consultation for patient "Ann Example" and clinician "Dr Bell" through the API. */
export async function createConsultation(server: Service): Promise<Created> {
  const res = await server.api('POST', '/api/v1/consultations', {
    patientPhone: '07700 900123', patientName: 'Ann Example', clinicianName: 'Dr Bell',
  });
  if (res.status !== 201) throw new Error(`creating a consultation answered ${res.status}`);
  const sms = (await server.outbox()).find((m) => m.consultationId === res.body.id);
  if (!sms) throw new Error('no SMS in the outbox for the new consultation');
  return { id: res.body.id as string, clinicianUrl: res.body.clinicianUrl as string, patientUrl: linkIn(sms.body) };
}

/**
 * On pages the caller made (a phone in a network namespace, another browser): the patient joins
 * and waits, the clinician joins and admits them.
 */
export async function admitOn(patient: Page, clinician: Page, created: Pick<Created, 'patientUrl' | 'clinicianUrl'>): Promise<void> {
  await patient.goto(created.patientUrl);
  await clickButton(patient, 'Join');
  await waitForText(patient, 'You are in the waiting room');
  await clinician.goto(created.clinicianUrl);
  await clickButton(clinician, 'Join');
  await clickButton(clinician, 'Admit');
}

/** A new consultation whose patient (on a phone) has joined and waits. */
export async function waitingPatient(server: Service, opts: { cameras?: number } = {}): Promise<Created & { patient: Page }> {
  const created = await createConsultation(server);
  const patient = await openParticipant({ phone: true, ...opts });
  await patient.goto(created.patientUrl);
  await clickButton(patient, 'Join');
  await waitForText(patient, 'You are in the waiting room');
  return { ...created, patient };
}

/** A waiting patient whom the clinician joins and admits. */
export async function admittedCall(server: Service): Promise<CallPages> {
  const { id, clinicianUrl, patient } = await waitingPatient(server);
  const clinician = await openParticipant();
  await clinician.goto(clinicianUrl);
  await clickButton(clinician, 'Join');
  await clickButton(clinician, 'Admit');
  return { id, patient, clinician };
}

/** Resolves once the page decodes more than `frames` video frames from others in total. */
export async function decodes(page: Page, frames = 0, timeout = 15_000): Promise<void> {
  await page.waitForFunction(
    async (n: number) => (await window.openconsult.stats()).video.reduce((s, v) => s + v.framesDecoded, 0) > n,
    { timeout, polling: 100 }, frames,
  );
}

/** The clinician invites an interpreter ("Maria") from the call page; resolves to the copyable link. */
export async function inviteInterpreter(clinician: Page): Promise<string> {
  await clinician.click('#invite-panel summary');
  await clinician.select('#invite-label', 'Interpreter');
  await clinician.type('#invite-name', 'Maria');
  await clickButton(clinician, 'Create invitation');
  await clinician.waitForFunction(() => (document.getElementById('invite-link') as HTMLInputElement).value.includes('/j/'));
  return clinician.$eval('#invite-link', (e) => (e as HTMLInputElement).value);
}

/**
 * Three people: the clinician joins and invites an interpreter ("Maria") from the call page by
 * its copyable link; the patient (on a phone) and the interpreter join, wait, and are admitted.
 */
export async function interpreterCall(server: Service): Promise<CallPages & { interpreter: Page }> {
  const created = await createConsultation(server);
  const clinician = await openParticipant();
  await clinician.goto(created.clinicianUrl);
  await clickButton(clinician, 'Join');
  await waitForText(clinician, 'Nobody else is in the call yet');
  const interpreterUrl = await inviteInterpreter(clinician);

  const patient = await openParticipant({ phone: true });
  await patient.goto(created.patientUrl);
  await clickButton(patient, 'Join');
  await waitForText(patient, 'You are in the waiting room');

  const interpreter = await openParticipant();
  await interpreter.goto(interpreterUrl);
  await clickButton(interpreter, 'Join');
  await waitForText(interpreter, 'You are in the waiting room');

  await waitForText(clinician, 'Maria (Interpreter) is waiting');
  await clickButton(clinician, 'Admit Ann Example');
  await clickButton(clinician, 'Admit Maria (Interpreter)');
  return { id: created.id, patient, clinician, interpreter };
}
