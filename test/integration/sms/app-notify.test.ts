import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { NotifySms } from '../../../server/sms/notify.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { type FakeNotify, notifyApiKey, notifyErrors, startFakeNotify } from './fake-notify.js';

const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';

let notify: FakeNotify;
let server: TestServer;

beforeAll(async () => {
  const key = notifyApiKey();
  notify = await startFakeNotify(key);
  const settings = { notifyApiKey: key.apiKey, notifyTemplateId: TEMPLATE_ID, notifyBaseUrl: notify.url };
  server = await startServer(
    { smsProvider: 'notify', ...settings },
    {
      // The failure test makes the service log an error line on purpose.
      logger: createLogger('silent'),
      sms: new NotifySms({
        apiKey: settings.notifyApiKey, templateId: settings.notifyTemplateId, baseUrl: settings.notifyBaseUrl,
        retry: { baseDelayMs: 1 },
      }),
    },
  );
});
afterAll(async () => {
  await server?.close();
  await notify?.close();
});
beforeEach(() => {
  notify.requests.length = 0;
});

describe('creating a consultation with the notify provider', () => {
  it("sends the patient's link through Notify, once, to the number in E.164", async () => {
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });

    expect(res.status).toBe(201);
    expect(res.body.sms).toBe('sent');
    expect(notify.requests).toHaveLength(1);
    const body = notify.requests[0]?.body;
    expect(body?.phone_number).toBe('+447700900123');
    expect(body?.template_id).toBe(TEMPLATE_ID);
    expect(body?.reference).toBe(res.body.id);
    const link = body?.personalisation?.['link'];
    expect(link).toMatch(new RegExp(`^${server.url}/j/[A-Za-z0-9_-]{22}$`));
    expect(body?.personalisation?.['body']).toContain(String(link));
    expect(await server.outbox()).toEqual([]);
  });

  it('tells the clinician the SMS failed when Notify refuses the number', async () => {
    notify.script(notifyErrors.validation);
    const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123' });

    expect(res.status).toBe(201);
    expect(res.body.sms).toBe('failed');
    expect(notify.requests).toHaveLength(1);
  });
});
