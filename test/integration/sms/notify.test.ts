import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { NotifyError, NotifySms, type NotifySmsOptions } from '../../../server/sms/notify.js';
import type { Sms } from '../../../server/sms/provider.js';
import { defaultSleep } from '../../../server/sms/retry.js';
import { type FakeNotify, notifyApiKey, notifyErrors, refusingUrl, startFakeNotify } from './fake-notify.js';

const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
const PHONE = '+447700900123';
const LINK = 'https://video.example-practice.nhs.uk/j/AbCdEfGhIjKlMnOpQrStUv';
const BODY = `Riverside Surgery: join your video consultation at ${LINK} (link works once)`;
const SMS: Sms = {
  to: PHONE,
  body: BODY,
  consultationId: 'c0nsultat10n1d',
  personalisation: { practice_name: 'Riverside Surgery', link: LINK },
};
// Small real delays: with random() = 0 the waits are exactly half the exponential delay.
const POLICY = { attempts: 3, baseDelayMs: 40, maxDelayMs: 1_000 };

let key: ReturnType<typeof notifyApiKey>;
let notify: FakeNotify;
let sleeps: number[];
let logLines: string[];

beforeEach(async () => {
  key = notifyApiKey();
  notify = await startFakeNotify(key);
  sleeps = [];
  logLines = [];
});
afterEach(async () => {
  await notify.close();
});

function provider(overrides: Partial<NotifySmsOptions> = {}): NotifySms {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  return new NotifySms({
    apiKey: key.apiKey,
    templateId: TEMPLATE_ID,
    baseUrl: notify.url,
    logger: createLogger('debug', sink),
    retry: POLICY,
    random: () => 0,
    sleep: (ms) => {
      sleeps.push(ms);
      return defaultSleep(ms);
    },
    ...overrides,
  });
}

/** The NotifyError `send` rejects with. */
async function failure(p: NotifySms, sms: Sms = SMS): Promise<NotifyError> {
  const err: unknown = await p.send(sms).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(NotifyError);
  if (!(err instanceof NotifyError)) throw new Error('unreachable');
  return err;
}

/** Neither the message, nor the log lines, nor the error's detail holds the number or the text. */
function expectNoPersonalData(err?: NotifyError): void {
  const national = PHONE.slice(3);
  for (const text of [err?.message ?? '', err?.detail ?? '', JSON.stringify(err?.toBody() ?? {}), ...logLines]) {
    expect(text).not.toContain(national);
    expect(text).not.toContain(LINK);
    expect(text).not.toContain('Riverside Surgery: join');
  }
}

describe('NotifySms against a Notify-speaking server', () => {
  it('sends one signed request with the template id, number, personalisation and reference', async () => {
    await provider().send(SMS);

    expect(notify.requests).toHaveLength(1);
    const [req] = notify.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v2/notifications/sms', iss: key.serviceId });
    expect(req?.userAgent).toMatch(/^NOTIFY-API-NODE-CLIENT\//);
    expect(req?.body).toEqual({
      template_id: TEMPLATE_ID,
      phone_number: PHONE,
      personalisation: { practice_name: 'Riverside Surgery', link: LINK, body: BODY },
      reference: 'c0nsultat10n1d',
    });
    expect(sleeps).toEqual([]);
    expectNoPersonalData();
  });

  it('accepts a base URL that ends in a slash', async () => {
    await provider({ baseUrl: `${notify.url}/` }).send(SMS);
    expect(notify.requests.map((r) => r.path)).toEqual(['/v2/notifications/sms']);
  });

  it('gives up at once on a refused phone number, with a message for reception and no number in it', async () => {
    notify.script(notifyErrors.validation);
    const err = await failure(provider());

    expect(notify.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(err).toMatchObject({ kind: 'permanent', notifyStatus: 400, notifyErrorCode: 'ValidationError', code: 'sms_failed', status: 502 });
    expect(err.message).toBe('The text message could not be sent: the phone number was refused. Check that it is a UK mobile number.');
    expect(err.detail).toBe('phone_number Not a UK mobile number');
    expectNoPersonalData(err);
  });

  it('says so when the Notify service is still in trial mode', async () => {
    notify.script(notifyErrors.trialMode);
    const err = await failure(provider());
    expect(notify.requests).toHaveLength(1);
    expect(err.kind).toBe('permanent');
    expect(err.message).toMatch(/trial mode/);
  });

  it('gives up at once when Notify does not recognise the API key', async () => {
    // The fake verifies the JWT: a key whose secret it does not know fails as Notify's does.
    const wrong = notifyApiKey();
    const err = await failure(provider({ apiKey: `openconsult_test-${key.serviceId}-${wrong.secret}` }));

    expect(notify.requests).toHaveLength(1);
    expect(notify.requests[0]?.iss).toBeUndefined();
    expect(err).toMatchObject({ kind: 'permanent', notifyStatus: 403, notifyErrorCode: 'AuthError' });
    expect(err.message).toBe('The text message could not be sent: the SMS service refused our API key. Ask your administrator.');
    expect(err.message).not.toContain(wrong.secret);
    expectNoPersonalData(err);
  });

  it('does not retry when the daily sending limit is reached', async () => {
    notify.script(notifyErrors.dailyLimit);
    const err = await failure(provider());
    expect(notify.requests).toHaveLength(1);
    expect(err).toMatchObject({ kind: 'permanent', notifyStatus: 429, notifyErrorCode: 'TooManyRequestsError' });
    expect(err.message).toMatch(/today's text message limit/);
  });

  it('retries after a rate limit, once, after a backoff, and succeeds', async () => {
    notify.script(notifyErrors.rateLimit, { status: 201 });
    await provider().send(SMS);

    expect(notify.requests).toHaveLength(2);
    expect(sleeps).toEqual([20]);
    const [first, second] = notify.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(19);
    expect(second?.body).toEqual(first?.body);
    expect(logLines.join('')).toMatch(/Notify busy; retrying/);
    expectNoPersonalData();
  });

  it('retries a 503 and succeeds', async () => {
    notify.script(notifyErrors.unavailable, { status: 201 });
    await provider().send(SMS);
    expect(notify.requests).toHaveLength(2);
    expect(sleeps).toEqual([20]);
  });

  it('stops after three server errors, waiting longer each time, and says it tried three times', async () => {
    notify.script(notifyErrors.internal, notifyErrors.internal, notifyErrors.internal, { status: 201 });
    const err = await failure(provider());

    expect(notify.requests).toHaveLength(3);
    expect(sleeps).toEqual([20, 40]);
    const [a, b, c] = notify.requests.map((r) => r.at);
    expect(b! - a!).toBeGreaterThanOrEqual(19);
    expect(c! - b!).toBeGreaterThanOrEqual(39);
    expect(err).toMatchObject({ kind: 'retries_exhausted', notifyStatus: 500, notifyErrorCode: 'Exception', attempts: 3 });
    expect(err.message).toBe(
      'The text message could not be sent: the SMS service is busy or unavailable; we tried 3 times. Try again in a few minutes.',
    );
    expectNoPersonalData(err);
  });

  it('never resends a request whose connection dropped before an answer', async () => {
    notify.script({ hangUp: true }, { status: 201 });
    const err = await failure(provider());

    expect(notify.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(err).toMatchObject({ kind: 'unknown_outcome', notifyStatus: undefined, attempts: 1 });
    expect(err.message).toMatch(/may or may not have been sent/);
    expectNoPersonalData(err);
  });

  it('never resends a request that got no answer in time', async () => {
    notify.script({ silent: true }, { status: 201 });
    const err = await failure(provider({ timeoutMs: 100 }));

    expect(notify.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(err.kind).toBe('unknown_outcome');
  });

  it('reports that nothing was sent when Notify cannot be reached', async () => {
    const err = await failure(provider({ baseUrl: await refusingUrl() }));
    expect(sleeps).toEqual([]);
    expect(err).toMatchObject({ kind: 'unreachable', notifyErrorCode: 'ECONNREFUSED' });
    expect(err.message).toMatch(/could not reach the SMS service/);
  });
});
