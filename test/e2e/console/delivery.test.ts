/**
 * Was the text delivered? The console (real Chromium, signed-in receptionist) shows what GOV.UK
 * Notify's delivery receipts said of each patient's text, in words to act on, as they arrive.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clock } from '../../../client/console/words.js';
import { createLogger } from '../../../server/log.js';
import { closeParticipants, openParticipant } from '../../helpers/browser.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { signInPage, signedIn } from '../../helpers/staff.js';
import { type FakeNotify, notifyApiKey, sendReceipt, startFakeNotify } from '../../integration/sms/fake-notify.js';

const TOKEN = 'callback-token-0123456789';
const artifacts = path.resolve('test-artifacts');
let notify: FakeNotify;
let server: TestServer;

beforeAll(async () => {
  const key = notifyApiKey();
  notify = await startFakeNotify(key);
  server = await startServer({
    smsProvider: 'notify', notifyApiKey: key.apiKey, notifyTemplateId: 'f33517ff-2a88-4f6e-b855-c550268ce08a', notifyBaseUrl: notify.url,
    // Callbacks only in this test: the status API is asked rarely.
    notifyCallbackToken: TOKEN, notifyStatusCheck: 3600,
  }, { logger: createLogger('silent') });
  await mkdir(artifacts, { recursive: true });
});
afterEach(async () => {
  await closeParticipants();
});
afterAll(async () => {
  await server?.close();
  await notify?.close();
});

async function invite(name: string): Promise<{ id: string; notificationId: string }> {
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: name });
  expect(res.status).toBe(201);
  return { id: res.body.id, notificationId: notify.sent.at(-1) as string };
}

async function waitForDelivery(page: Page, id: string, text: string): Promise<void> {
  await page.waitForFunction(
    (sel: string, t: string) => (document.querySelector(sel)?.textContent ?? '') === t,
    { timeout: 20_000, polling: 100 }, `tr[data-id="${id}"] .console-sms`, text,
  );
}

describe('the console and delivery receipts', () => {
  it('says "delivered" with the time, or "not delivered: check the number", as Notify reports them', async () => {
    const receptionist = await signedIn(server, { roles: ['receptionist'] });
    const page = await openParticipant();
    await signInPage(page, server, receptionist);
    const delivered = await invite('Ada Lovelace');
    const wrong = await invite('Alan Turing');
    const off = await invite('Grace Hopper');
    await page.goto(`${server.url}/console`);
    await page.waitForSelector('#view-console:not([hidden])');

    await page.waitForFunction(
      (sel: string) => /^Text sent \d\d:\d\d, not delivered yet$/.test(document.querySelector(sel)?.textContent ?? ''),
      { timeout: 20_000, polling: 100 }, `tr[data-id="${delivered.id}"] .console-sms`,
    );

    const at = '2026-11-30T10:42:07.000000Z';
    expect((await sendReceipt(`${server.url}/notify/receipts`, TOKEN, delivered.notificationId, 'delivered', { completed_at: at })).status).toBe(204);
    expect((await sendReceipt(`${server.url}/notify/receipts`, TOKEN, wrong.notificationId, 'permanent-failure')).status).toBe(204);
    expect((await sendReceipt(`${server.url}/notify/receipts`, TOKEN, off.notificationId, 'temporary-failure')).status).toBe(204);

    await waitForDelivery(page, delivered.id, `Text delivered ${clock(at)}`);
    await waitForDelivery(page, wrong.id, 'Text not delivered: check the number');
    await waitForDelivery(page, off.id, 'Text not delivered yet: the phone may be off. Phone the patient');
    expect(await page.$eval(`tr[data-id="${wrong.id}"] .console-sms`, (e) => e.classList.contains('console-sms--failed'))).toBe(true);
    expect(await page.$eval(`tr[data-id="${delivered.id}"] .console-sms`, (e) => e.classList.contains('console-sms--failed'))).toBe(false);
    await page.screenshot({ path: path.join(artifacts, 'console-sms-delivery.png') as `${string}.png`, fullPage: true });
  });
});
