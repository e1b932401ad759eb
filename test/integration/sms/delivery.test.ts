/**
 * Was the text delivered? GOV.UK Notify's delivery receipts end to end: its callback (bearer
 * token, any id, bad bodies) and, for a deployment without callbacks, asking its status API.
 * The consultation's API view and the console's list say what became of the patient's text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { type FakeNotify, notifyApiKey, sendReceipt, startFakeNotify } from './fake-notify.js';

const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
const CALLBACK_TOKEN = 'callback-token-0123456789';

let notify: FakeNotify;
let server: TestServer;
let receipts: string;

beforeAll(async () => {
  const key = notifyApiKey();
  notify = await startFakeNotify(key);
  server = await startServer({
    smsProvider: 'notify', notifyApiKey: key.apiKey, notifyTemplateId: TEMPLATE_ID, notifyBaseUrl: notify.url,
    notifyCallbackToken: CALLBACK_TOKEN, notifyStatusCheck: 1,
  }, { logger: createLogger('silent') });
  receipts = `${server.url}/notify/receipts`;
});
afterAll(async () => {
  await server?.close();
  await notify?.close();
});

/** Creates a consultation and resolves to it with the id Notify gave its text. */
async function invite(): Promise<{ id: string; notificationId: string }> {
  const before = notify.sent.length;
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
  expect(res.status).toBe(201);
  expect(notify.sent).toHaveLength(before + 1);
  return { id: res.body.id, notificationId: notify.sent[before] as string };
}

const view = async (id: string) => (await server.api('GET', `/api/v1/consultations/${id}`)).body;
const listed = async (id: string) =>
  ((await server.api('GET', '/api/v1/consultations')).body.consultations as { id: string; sms: string; smsDelivery: unknown }[]).find((c) => c.id === id);

describe("Notify's delivery-receipt callback", () => {
  it('shows the text delivered, with the time Notify gives, in the API view, the list and the audit log', async () => {
    const { id, notificationId } = await invite();
    expect((await view(id)).sms).toEqual({ status: 'sending', at: expect.any(String) });

    const res = await sendReceipt(receipts, CALLBACK_TOKEN, notificationId, 'delivered', { completed_at: '2026-11-30T10:42:07.000000Z' });

    expect(res.status).toBe(204);
    expect((await view(id)).sms).toEqual({ status: 'delivered', at: '2026-11-30T10:42:07.000Z' });
    const line = await listed(id);
    expect(line?.sms).toBe('sent');
    expect(line?.smsDelivery).toEqual({ status: 'delivered', at: '2026-11-30T10:42:07.000Z' });
    const events = (await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; detail: unknown }[];
    expect(events.filter((e) => e.type === 'sms_delivery')).toEqual([expect.objectContaining({ detail: { status: 'delivered' } })]);
  });

  it('says a wrong number plainly, and keeps it when a later receipt disagrees', async () => {
    const { id, notificationId } = await invite();

    expect((await sendReceipt(receipts, CALLBACK_TOKEN, notificationId, 'permanent-failure')).status).toBe(204);
    expect((await sendReceipt(receipts, CALLBACK_TOKEN, notificationId, 'delivered')).status).toBe(204);

    expect((await view(id)).sms.status).toBe('permanent_failure');
  });

  it('refuses a receipt without the callback token, or with another, and changes nothing', async () => {
    const { id, notificationId } = await invite();

    for (const token of [undefined, 'callback-token-wrong-one', `${CALLBACK_TOKEN}x`]) {
      const res = await sendReceipt(receipts, token, notificationId, 'delivered');
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.code).toBe('unauthorized');
    }
    expect((await view(id)).sms.status).toBe('sending');
  });

  it('answers 204 to an id it does not know, and a coded 400 to a body that is not a receipt', async () => {
    expect((await sendReceipt(receipts, CALLBACK_TOKEN, '740e5834-3a29-46b4-9a6f-16142fde533a', 'delivered')).status).toBe(204);

    for (const body of [{ id: 'x' }, { status: 'delivered' }, { id: 7, status: 'delivered' }, 'not json at all']) {
      const res = await fetch(receipts, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${CALLBACK_TOKEN}` },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
  });
});

describe("asking Notify's status API, for a deployment without callbacks", () => {
  it('learns a delivery from the status API, with a failing answer in between only delaying it', async () => {
    const { id, notificationId } = await invite();
    notify.statusFailing(true);
    // Asked at least once while failing (the first question comes a second after sending).
    await expect.poll(() => notify.requests.filter((r) => r.method === 'GET' && r.path.endsWith(notificationId)).length, { timeout: 10_000 })
      .toBeGreaterThan(0);
    expect((await view(id)).sms.status).toBe('sending');

    notify.statusFailing(false);
    notify.deliver(notificationId, 'temporary-failure');

    await expect.poll(async () => (await view(id)).sms.status, { timeout: 20_000, interval: 250 }).toBe('temporary_failure');
  });

  it('stops asking about a text once its status is final', async () => {
    const { id, notificationId } = await invite();
    notify.deliver(notificationId, 'delivered');
    await expect.poll(async () => (await view(id)).sms.status, { timeout: 20_000, interval: 250 }).toBe('delivered');

    const pending = (await server.app.store.takeDueSmsChecks(Date.now() + 48 * 3600_000, Date.now(), 1000)).map((d) => d.notificationId);
    expect(pending).not.toContain(notificationId);
  });
});

describe('the outbox provider', () => {
  it('reports the text as sent, with no delivery to follow', async () => {
    const outbox = await startServer();
    try {
      const res = await outbox.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });
      const got = (await outbox.api('GET', `/api/v1/consultations/${res.body.id}`)).body;
      expect(got.sms).toEqual({ status: 'sent', at: null });
      expect(await outbox.app.store.latestSmsDeliveries([res.body.id])).toEqual(new Map());
    } finally {
      await outbox.close();
    }
  });

  it('has no callback route when no callback token is set', async () => {
    const outbox = await startServer();
    try {
      expect((await sendReceipt(`${outbox.url}/notify/receipts`, CALLBACK_TOKEN, '740e5834-3a29-46b4-9a6f-16142fde533a', 'delivered')).status).toBe(404);
    } finally {
      await outbox.close();
    }
  });
});
