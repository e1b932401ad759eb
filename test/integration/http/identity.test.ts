/**
 * The patient's date-of-birth check before the waiting room (issue #18), over HTTP and the
 * socket, on the real service (SQLite, and PostgreSQL in the postgres project).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClientSocket, connect } from '../../helpers/participants.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

const DAY = 24 * 60 * 60_000;
const DOB = '1956-03-09';
let clock = Date.now();
let server: TestServer;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer({ retentionDays: 7 }, { now: () => clock });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

async function create(extra: Record<string, unknown> = { patientDateOfBirth: DOB }) {
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900456', ...extra });
  expect(res.status).toBe(201);
  const sms = (await server.outbox()).filter((m) => m.consultationId === res.body.id).at(-1);
  if (!sms) throw new Error('no SMS for the new consultation');
  return { id: res.body.id as string, patientCode: codeOf(linkIn(sms.body)), clinicianCode: codeOf(res.body.clinicianUrl) };
}

const post = async (path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() as any, cookie: res.headers.getSetCookie()[0]?.split(';')[0] };
};
const tryDate = (code: string, dateOfBirth: string) => post(`/api/v1/links/${code}/identity`, { dateOfBirth });
const redeem = (code: string) => post(`/api/v1/links/${code}/redeem`);
const identityOf = async (id: string) => (await server.api('GET', `/api/v1/consultations/${id}`)).body.identity as string;
const pageKind = async (code: string) => /<meta name="openconsult-link" content="(\w+)">/.exec(await (await fetch(`${server.url}/j/${code}`)).text())?.[1];

describe('the date of birth the practice gives', () => {
  it('refuses dates that are not real, in the future or before 1900, with a clear message', async () => {
    for (const [date, words] of [['2001-02-30', /real date/], ['1899-12-31', /after 1900/], ['2999-01-01', /in the past/], ['9/3/1956', /./]] as const) {
      const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900456', patientDateOfBirth: date });
      expect(res.status, date).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toMatch(words);
    }
  });

  it('is kept only as a salted hash, and a consultation without one asks nothing', async () => {
    const a = await create();
    const b = await create();
    const [ha, hb] = [await server.app.store.getIdentity(a.id), await server.app.store.getIdentity(b.id)];
    expect(ha?.dobHash).toMatch(/^scrypt\$/);
    expect(ha?.dobHash).not.toContain('1956');
    expect(ha?.dobHash).not.toBe(hb?.dobHash); // a salt of its own
    expect(await identityOf(a.id)).toBe('pending');

    const plain = await create({});
    expect(await identityOf(plain.id)).toBe('not_required');
    expect(await pageKind(plain.patientCode)).toBe('fresh');
    expect((await redeem(plain.patientCode)).status).toBe(200);
  });
});

describe('the patient confirming it', () => {
  it('is asked for on the patient link only; the link redeems once the date is right, and is not used up before', async () => {
    const c = await create();
    expect(await pageKind(c.patientCode)).toBe('identity');
    expect(await pageKind(c.clinicianCode)).toBe('fresh');
    const early = await redeem(c.patientCode);
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe('identity_required');
    expect((await redeem(c.clinicianCode)).status).toBe(200);

    const wrong = await tryDate(c.patientCode, '1956-09-03');
    expect(wrong.status).toBe(422);
    expect(wrong.body.error).toMatchObject({ code: 'identity_mismatch', message: expect.stringMatching(/4 more times/) });
    const right = await tryDate(c.patientCode, DOB);
    expect(right).toMatchObject({ status: 200, body: { identity: 'confirmed' } });
    expect(await identityOf(c.id)).toBe('confirmed');
    expect(await pageKind(c.patientCode)).toBe('fresh');
    const joined = await redeem(c.patientCode);
    expect(joined.status).toBe(200);
    expect(joined.body.role).toBe('patient');

    // Audited as ticks, never with the date.
    const events = (await server.api('GET', `/api/v1/consultations/${c.id}/events`)).body.events as { type: string; detail: unknown }[];
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['identity_mismatch', 'identity_confirmed']));
    expect(JSON.stringify(events)).not.toMatch(/1956/);
  });

  it('refuses an impossible date without counting it as a try', async () => {
    const c = await create();
    const res = await tryDate(c.patientCode, '1956-02-31');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toMatch(/real date/);
    expect((await server.app.store.getIdentity(c.id))?.failures).toBe(0);
  });

  it('locks the link after five wrong dates: the right one, the redemption and the socket are refused; the console says so', async () => {
    const c = await create();
    for (let i = 1; i <= 4; i++) expect((await tryDate(c.patientCode, `1960-01-0${i}`)).status).toBe(422);
    const fifth = await tryDate(c.patientCode, '1960-01-05');
    expect(fifth.status).toBe(423);
    expect(fifth.body.error.code).toBe('identity_locked');
    expect(fifth.body.error.message).toMatch(/call the practice/i);
    expect((await tryDate(c.patientCode, DOB)).body.error.code).toBe('identity_locked');
    expect((await redeem(c.patientCode)).body.error.code).toBe('identity_locked');
    expect(await pageKind(c.patientCode)).toBeUndefined(); // the refused page, which asks the redemption why
    expect(await identityOf(c.id)).toBe('failed');
    const since = new Date(clock - DAY).toISOString();
    const list = (await server.api('GET', `/api/v1/consultations?since=${since}`)).body.consultations as { id: string; identity: string }[];
    expect(list.find((x) => x.id === c.id)?.identity).toBe('failed');

    // Re-sending the link (the practice spoke to the patient) asks again, with all five tries.
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/resend`)).status).toBe(200);
    const fresh = codeOf(linkIn((await server.outbox()).filter((m) => m.consultationId === c.id).at(-1)!.body));
    expect(await identityOf(c.id)).toBe('pending');
    expect((await tryDate(fresh, DOB)).status).toBe(200);
    expect((await redeem(fresh)).status).toBe(200);
  });

  it('keeps a patient whose check is not confirmed out of the waiting room (socket join)', async () => {
    const c = await create();
    expect((await tryDate(c.patientCode, DOB)).status).toBe(200);
    const { cookie } = await redeem(c.patientCode);
    // The practice re-sends the link: until its holder confirms again, this patient's join is refused.
    await server.app.store.resetIdentity(c.id, clock);
    const socket = await connect(server, c.id, cookie!, sockets);
    const ack = await socket.timeout(5000).emitWithAck('join', {});
    expect(ack).toMatchObject({ ok: false, error: { code: 'identity_required' } });
  });

  it('is deleted by retention with the rest of the personal data', async () => {
    const c = await create();
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/end`)).status).toBe(200);
    clock += 7 * DAY + 1;
    expect((await server.app.runRetention()).consultations).toContain(c.id);
    expect((await server.app.store.getIdentity(c.id))?.dobHash).toBeNull();
  });
});
