/**
 * The audit log names who did what by id, and keeps to its practice: a scripted day in two
 * practices (created by a key and by a clinician, re-sent by a receptionist, joined, admitted,
 * a guest invited with a name and number, ended) and then every row of the events and
 * practice_events tables is read straight from the database file: each actor is `key:<id>`,
 * `user:<id>`, a participant's role or `system`, each event carries its consultation's practice,
 * and no row holds a name, phone number or e-mail address of the day; nor does any log line of
 * the day, at the most verbose level. Practice B's every answer is searched for A's patients too.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { DB_FILE_NAME } from '../../../server/store/db.js';
import { type ClientSocket, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type Answer, type Caller, type TwoPractices, twoPractices } from '../../helpers/practices.js';
import { type TestServer, codeOf, startServer } from '../../helpers/server.js';

/** The day's people: each must appear in no audit row, and A's in no answer to B. */
const A_PATIENTS = [
  { patientName: 'Ophelia Auditpatient', patientPhone: '07700 900311', clinicianName: 'Dr Quentin Freetext' },
  { patientName: 'Percival Auditpatient', patientPhone: '07700 900322' },
];
const GUEST_BY_API = { label: 'Interpreter', name: 'Gwendolyn Guestname', phone: '07700 900333' };
const GUEST_IN_CALL = { label: 'Carer', name: 'Horatio Guestname', phone: '07700 900355' };
const A_GUESTS = [GUEST_BY_API, GUEST_IN_CALL];
const B_PATIENT = { patientName: 'Bartholomew Bpatient', patientPhone: '07700 900344' };

/** A number as the service may have kept it (national digits, +44 or spaced). */
const phoneForms = (phone: string) => [phone, phone.replace(/\s/g, '').slice(1)];
const namesAndNumbers = (people: { patientName?: string; name?: string; clinicianName?: string; patientPhone?: string; phone?: string }[]) =>
  people.flatMap((p) => [p.patientName, p.name, p.clinicianName, ...(p.patientPhone ? phoneForms(p.patientPhone) : []), ...(p.phone ? phoneForms(p.phone) : [])])
    .filter((x): x is string => x !== undefined);

const ACTOR = /^(key:[A-Za-z0-9_-]+|user:[A-Za-z0-9_-]+|patient|clinician|guest|system)$/;

let server: TestServer;
let two: TwoPractices;
const opened: ClientSocket[] = [];
/** Every answer practice B's callers got. */
const answersToB: { what: string; answer: Answer }[] = [];
const day: Record<'c1' | 'c2' | 'c3' | 'b1', string> = { c1: '', c2: '', c3: '', b1: '' };
const logLines: string[] = [];
/** One-time codes of the day (links and the first admin's set-up link): usable if logged. */
const codes: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    logLines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

async function as(who: Caller, method: string, route: string, body?: unknown, status?: number): Promise<Answer> {
  const answer = await two.call(who, method, route, body);
  if (who.practice === 'B') answersToB.push({ what: `${method} ${route} as ${who.label}`, answer });
  if (status !== undefined) expect(answer.status, `${method} ${route} as ${who.label}: ${answer.text}`).toBe(status);
  return answer;
}

function rows(table: 'events' | 'practice_events'): { consultation_id?: string; practice_id: string | null; actor: string; type: string; detail: string | null }[] {
  const db = new Database(path.join(server.dataDir, DB_FILE_NAME), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY seq`).all() as never;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  server = await startServer({ logLevel: 'trace' }, { logger: createLogger('trace', sink) });
  two = await twoPractices(server);
  // The first start's set-up link, opened (by the operator, or a link scanner).
  const setupUrl = server.app.firstAdminSetupUrl();
  if (!setupUrl) throw new Error('no first-admin set-up link');
  codes.push(codeOf(setupUrl));
  await fetch(setupUrl);
  const keyA = two.caller('A', 'key');
  const clinicianA = two.caller('A', 'clinician');
  const receptionistA = two.caller('A', 'receptionist');

  // A: one consultation by the practice system, one by a signed-in clinician.
  day.c1 = (await as(keyA, 'POST', '/api/v1/consultations', A_PATIENTS[0], 201)).body.id;
  day.c2 = (await as(clinicianA, 'POST', '/api/v1/consultations', A_PATIENTS[1], 201)).body.id;
  await as(receptionistA, 'POST', `/api/v1/consultations/${day.c1}/resend`, undefined, 200);
  // The practice system names the clinician it is for by their e-mail address.
  day.c3 = (await as(keyA, 'POST', '/api/v1/consultations', { ...A_PATIENTS[0], clinicianEmail: clinicianA.email }, 201)).body.id;

  // c2's call: the patient waits, the clinician (a link from the console) joins and admits.
  codes.push(codeOf(await patientLink(server, day.c2)));
  const patient = await redeem(server, await patientLink(server, day.c2));
  const waiting = await joined(server, day.c2, patient.cookie, opened);
  const link = await as(clinicianA, 'POST', `/api/v1/consultations/${day.c2}/clinician-link`, undefined, 201);
  codes.push(codeOf(link.body.clinicianUrl));
  const host = (await joined(server, day.c2, (await redeem(server, link.body.clinicianUrl)).cookie, opened)).socket;
  const admitted = new Promise((resolve) => waiting.socket.once('admitted', resolve));
  expect(await host.timeout(5000).emitWithAck('admit', { id: patient.participantId })).toEqual({ ok: true, data: {} });
  await admitted;

  // Guests with a name and a number: one from the console's API, one from the call.
  await as(clinicianA, 'POST', `/api/v1/consultations/${day.c2}/guests`, GUEST_BY_API, 201);
  expect(await host.timeout(5000).emitWithAck('invite', GUEST_IN_CALL)).toMatchObject({ ok: true });

  await as(clinicianA, 'POST', `/api/v1/consultations/${day.c2}/end`, undefined, 200);
  await as(keyA, 'POST', `/api/v1/consultations/${day.c1}/end`, undefined, 200);

  // B's day, and B's callers looking for A's.
  day.b1 = (await as(two.caller('B', 'clinician'), 'POST', '/api/v1/consultations', B_PATIENT, 201)).body.id;
  await as(two.caller('B', 'receptionist'), 'POST', `/api/v1/consultations/${day.b1}/resend`, undefined, 200);
  for (const who of two.callers.filter((c) => c.practice === 'B')) {
    await as(who, 'GET', '/api/v1/consultations');
    await as(who, 'GET', `/api/v1/consultations?since=${encodeURIComponent(new Date(0).toISOString())}`);
    await as(who, 'GET', '/api/v1/reports/s97?week=2026-W48');
    for (const id of [day.c1, day.c2]) {
      for (const r of ['', '/events']) await as(who, 'GET', `/api/v1/consultations/${id}${r}`);
      for (const r of ['/resend', '/clinician-link', '/end']) await as(who, 'POST', `/api/v1/consultations/${id}${r}`);
      await as(who, 'POST', `/api/v1/consultations/${id}/guests`, { label: 'Interpreter' });
    }
  }
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  for (const s of opened.splice(0)) s.disconnect();
  await server?.close();
});

describe('the audit log', () => {
  it('names every actor by id or role, never by name', () => {
    const events = rows('events');
    expect(events.length).toBeGreaterThan(10);
    for (const e of events) expect(e.actor, JSON.stringify(e)).toMatch(ACTOR);
    for (const e of rows('practice_events')) expect(e.actor, JSON.stringify(e)).toMatch(/^(key:[A-Za-z0-9_-]+|user:[A-Za-z0-9_-]+|operator|system)$/);
  });

  it('names the key or the person who acted', () => {
    const events = rows('events');
    const actorOf = (id: string, type: string, pick: (d: any) => boolean = () => true) =>
      events.filter((e) => e.consultation_id === id && e.type === type && pick(JSON.parse(e.detail ?? 'null'))).map((e) => e.actor);
    expect(actorOf(day.c1, 'created')).toEqual([two.caller('A', 'key').actor]);
    expect(actorOf(day.c2, 'created')).toEqual([two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c1, 'link_resent')).toEqual([two.caller('A', 'receptionist').actor]);
    expect(actorOf(day.c2, 'clinician_link_issued')).toEqual([two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c2, 'link_redeemed')).toEqual(['patient', 'clinician']);
    // c2's clinician is the signed-in clinician who made it: what they do in the call is theirs.
    expect(actorOf(day.c2, 'status', (d) => d.to === 'in_call')).toEqual([two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c2, 'admitted')).toEqual([two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c2, 'guest_invited')).toEqual([two.caller('A', 'clinician').actor, two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c2, 'status', (d) => d.to === 'ended')).toEqual([two.caller('A', 'clinician').actor]);
    expect(actorOf(day.c1, 'status', (d) => d.to === 'ended')).toEqual([two.caller('A', 'key').actor]);
    expect(actorOf(day.c3, 'created')).toEqual([two.caller('A', 'key').actor]);
    expect(events.filter((e) => e.consultation_id === day.c3 && e.type === 'created').map((e) => JSON.parse(e.detail ?? '{}').owner))
      .toEqual([two.caller('A', 'clinician').actor.slice('user:'.length)]);
    expect(actorOf(day.b1, 'created')).toEqual([two.caller('B', 'clinician').actor]);
    expect(actorOf(day.b1, 'link_resent')).toEqual([two.caller('B', 'receptionist').actor]);
  });

  it('files every event under its consultation\'s practice', () => {
    const events = rows('events');
    for (const [key, practice] of [['c1', 'A'], ['c2', 'A'], ['b1', 'B']] as const) {
      const mine = events.filter((e) => e.consultation_id === day[key]);
      expect(mine.length).toBeGreaterThan(1);
      expect(new Set(mine.map((e) => e.practice_id)), key).toEqual(new Set([two.ids[practice]]));
    }
    const people = rows('practice_events');
    for (const c of two.callers.filter((x) => x.kind !== 'key')) {
      const invited = people.filter((e) => e.type === 'user_invited' && JSON.parse(e.detail ?? '{}').userId === c.actor.slice('user:'.length));
      expect(invited.map((e) => e.practice_id), c.label).toEqual([two.ids[c.practice]]);
    }
  });

  it('holds no name, phone number or e-mail address of the day', () => {
    const staff = two.callers.flatMap((c) => [c.email, c.displayName]).filter((x): x is string => x !== undefined);
    const needles = [...namesAndNumbers([...A_PATIENTS, ...A_GUESTS, B_PATIENT]), ...staff];
    for (const table of ['events', 'practice_events'] as const) {
      for (const row of rows(table)) {
        const text = [row.actor, row.type, row.detail ?? ''].join(' ').toLowerCase();
        for (const needle of needles) expect(text, `${table}: ${needle}`).not.toContain(needle.toLowerCase());
      }
    }
  });

  it('nor does any log line of the day, nor a one-time code', () => {
    const staff = two.callers.flatMap((c) => [c.email, c.displayName]).filter((x): x is string => x !== undefined);
    const needles = [...namesAndNumbers([...A_PATIENTS, ...A_GUESTS, B_PATIENT]), ...staff, ...codes];
    expect(logLines.length).toBeGreaterThan(20);
    for (const line of logLines) {
      for (const needle of needles) expect(line.toLowerCase(), needle).not.toContain(needle.toLowerCase());
    }
  });

  it('is read through the API by the consultation\'s own practice only', async () => {
    const keyA = two.caller('A', 'key');
    const own = await as(keyA, 'GET', `/api/v1/consultations/${day.c2}/events`, undefined, 200);
    expect(own.body.events.length).toBeGreaterThan(5);
    for (const e of own.body.events) expect([e.consultationId, e.practiceId]).toEqual([day.c2, two.ids.A]);
    expect((await as(keyA, 'GET', `/api/v1/consultations/${day.b1}/events`, undefined, 404)).body.error.code).toBe('consultation_not_found');
    for (const who of two.callers.filter((c) => c.practice === 'B' && c.kind !== 'receptionist')) {
      expect((await as(who, 'GET', `/api/v1/consultations/${day.c2}/events`, undefined, 404)).body.error.code).toBe('consultation_not_found');
    }
  });
});

describe('practice B', () => {
  it('never hears a name or number of A\'s patients, guests or staff', () => {
    const staffA = two.callers.filter((c) => c.practice === 'A').flatMap((c) => [c.email, c.displayName]).filter((x): x is string => x !== undefined);
    const needles = [...namesAndNumbers([...A_PATIENTS, ...A_GUESTS]), ...staffA, ...[day.c1, day.c2].map((id) => `"${id}"`)];
    expect(answersToB.length).toBeGreaterThan(40);
    expect(answersToB.some((a) => a.answer.status === 200)).toBe(true);
    for (const { what, answer } of answersToB) {
      for (const needle of needles) expect(answer.text, `${what}: ${needle}`).not.toContain(needle);
    }
  });
});
