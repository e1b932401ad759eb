/**
 * "Phone me instead" (issue #18): the patient's request by their link's code reaches the
 * clinician's page at once and the console's list, is audited, is capped at one pending request,
 * and someone at the practice marks it done.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClientSocket, joined, redeem } from '../../helpers/participants.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

const DAY = 24 * 60 * 60_000;
let clock = Date.now();
let server: TestServer;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer({ linkTtl: 3600 }, { now: () => clock });
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

async function create() {
  const res = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900789' });
  expect(res.status).toBe(201);
  const sms = (await server.outbox()).find((m) => m.consultationId === res.body.id);
  if (!sms) throw new Error('no SMS for the new consultation');
  return { id: res.body.id as string, patientLink: linkIn(sms.body), clinicianUrl: res.body.clinicianUrl as string };
}

const ask = async (code: string) => {
  const res = await fetch(`${server.url}/api/v1/links/${code}/callback`, { method: 'POST' });
  return { status: res.status, body: await res.json() as any };
};
const listed = async (id: string) => {
  const since = new Date(clock - DAY).toISOString();
  return ((await server.api('GET', `/api/v1/consultations?since=${since}`)).body.consultations as { id: string; callbackRequestedAt: string | null }[])
    .find((c) => c.id === id);
};
const eventTypes = async (id: string) =>
  ((await server.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; actor: string }[]);

describe('phone me instead', () => {
  it('reaches the clinician\'s page at once and the console, once while pending, audited, until marked done', async () => {
    const c = await create();
    const clinician = await redeem(server, c.clinicianUrl);
    const { socket } = await joined(server, c.id, clinician.cookie, sockets);
    const heard = new Promise<{ at: number }>((resolve) => socket.once('callbackRequested', resolve));

    const first = await ask(codeOf(c.patientLink));
    expect(first).toMatchObject({ status: 200, body: { requested: true, already: false } });
    expect((await heard).at).toBe(clock);
    expect((await listed(c.id))?.callbackRequestedAt).toBe(new Date(clock).toISOString());
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.callbackRequestedAt).toBe(new Date(clock).toISOString());

    // A second press while it is pending sends nothing new.
    let again = 0;
    socket.on('callbackRequested', () => again++);
    expect((await ask(codeOf(c.patientLink))).body.already).toBe(true);

    const done = await server.api('POST', `/api/v1/consultations/${c.id}/callback/done`);
    expect(done).toMatchObject({ status: 200, body: { done: true } });
    expect((await listed(c.id))?.callbackRequestedAt).toBeNull();
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/callback/done`)).body.done).toBe(false);
    const events = await eventTypes(c.id);
    expect(events.filter((e) => e.type === 'callback_requested')).toEqual([expect.objectContaining({ actor: 'patient' })]);
    expect(events.filter((e) => e.type === 'callback_done')).toEqual([expect.objectContaining({ actor: expect.stringMatching(/^key:/) })]);
    expect(again).toBe(0);
  });

  it('works from a used link and from an expired one (the code proves the text arrived)', async () => {
    const used = await create();
    await redeem(server, used.patientLink);
    expect((await ask(codeOf(used.patientLink))).status).toBe(200);

    const expired = await create();
    clock += 3600_000 + 1;
    const page = await fetch(`${server.url}/api/v1/links/${codeOf(expired.patientLink)}/redeem`, { method: 'POST' });
    expect(page.status).toBe(410);
    expect((await ask(codeOf(expired.patientLink))).body).toMatchObject({ requested: true, already: false });
    expect((await listed(expired.id))?.callbackRequestedAt).not.toBeNull();
  });

  it('is the patient\'s only: a clinician\'s link is refused, an unknown code is not found', async () => {
    const c = await create();
    expect((await ask(codeOf(c.clinicianUrl))).body.error.code).toBe('forbidden');
    expect((await ask('A'.repeat(22))).body.error.code).toBe('link_not_found');
    expect((await ask('not-a-code')).body.error.code).toBe('link_not_found');
    expect((await listed(c.id))?.callbackRequestedAt).toBeNull();
  });
});
