/**
 * Practices are isolated: a key or a member of staff of practice B cannot read, list, re-send,
 * invite to, join or end practice A's consultations through any route or socket event. Each
 * route of the app under /api/v1/ is in the table below (a route missing from it fails the
 * test), and every route × caller × own/other practice is tried: at home the permission table
 * decides (2xx or 403); next door the answer is exactly the one an unknown id gets.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Permission, grants } from '../../../server/auth/permissions.js';
import { sessionCookieName } from '../../../server/auth/session.js';
import { type ClientSocket, connect, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type Caller, type TwoPractices, twoPractices } from '../../helpers/practices.js';
import { type TestServer, startServer } from '../../helpers/server.js';

/** What a route's `:id` (or other path parameter) names: a fresh one of practice A is made for each try. */
type Target = 'consultation' | 'user' | 'key';

/**
 * What a route is. `scoped`: acts on the `target` its path parameter names, needs `right`, answers
 * `ok` (sent `body`). `report`: the asker's own practice's report. `unscoped`: no practice's data
 * in it (or tested below), with the reason. Adding a route is one line here, e.g.
 * `'POST /api/v1/admin/users/:id/disable': { kind: 'scoped', target: 'user', right: 'practice.manage', ok: 200 },`
 */
type Row =
  | { kind: 'scoped'; target: Target; right: Permission; ok: number; body?: unknown; staffOnly?: true }
  | { kind: 'report'; right: Permission; query: string }
  | { kind: 'unscoped'; why: string };

const table: Record<string, Row> = {
  'GET /api/v1/consultations/:id': { kind: 'scoped', target: 'consultation', right: 'consultation.read', ok: 200 },
  'GET /api/v1/consultations/:id/events': { kind: 'scoped', target: 'consultation', right: 'consultation.events', ok: 200 },
  'POST /api/v1/consultations/:id/resend': { kind: 'scoped', target: 'consultation', right: 'consultation.resend', ok: 200 },
  'POST /api/v1/consultations/:id/clinician-link': { kind: 'scoped', target: 'consultation', right: 'consultation.join', ok: 201 },
  'POST /api/v1/consultations/:id/guests': { kind: 'scoped', target: 'consultation', right: 'consultation.invite', ok: 201, body: { label: 'Interpreter' } },
  'POST /api/v1/consultations/:id/end': { kind: 'scoped', target: 'consultation', right: 'consultation.end', ok: 200 },
  'POST /api/v1/consultations/:id/join': { kind: 'scoped', target: 'consultation', right: 'consultation.join', ok: 201, staffOnly: true },
  'PUT /api/v1/admin/users/:id/roles': { kind: 'scoped', target: 'user', right: 'practice.manage', ok: 200, body: { roles: ['clinician'] } },
  'POST /api/v1/admin/users/:id/disable': { kind: 'scoped', target: 'user', right: 'practice.manage', ok: 200 },
  'POST /api/v1/admin/users/:id/enable': { kind: 'scoped', target: 'user', right: 'practice.manage', ok: 200 },
  'POST /api/v1/admin/users/:id/setup-link': { kind: 'scoped', target: 'user', right: 'practice.manage', ok: 201 },
  'POST /api/v1/admin/keys/:id/rotate': { kind: 'scoped', target: 'key', right: 'practice.manage', ok: 201 },
  'POST /api/v1/admin/keys/:id/revoke': { kind: 'scoped', target: 'key', right: 'practice.manage', ok: 200 },
  'GET /api/v1/reports/s97': { kind: 'report', right: 'report.read', query: '?week=2026-W48' },
  'POST /api/v1/consultations': { kind: 'unscoped', why: 'creates in the asker\'s practice: "lists" below' },
  'GET /api/v1/consultations': { kind: 'unscoped', why: 'lists the asker\'s practice: "lists" below' },
  'GET /api/v1/me': { kind: 'unscoped', why: 'the asker\'s own identity and rights' },
  'GET /api/v1/admin/users': { kind: 'unscoped', why: 'lists the asker\'s practice (test/integration/admin)' },
  'POST /api/v1/admin/users': { kind: 'unscoped', why: 'invites into the asker\'s practice (test/integration/admin)' },
  'GET /api/v1/admin/keys': { kind: 'unscoped', why: 'lists the asker\'s practice (test/integration/admin)' },
  'POST /api/v1/admin/keys': { kind: 'unscoped', why: 'creates in the asker\'s practice (test/integration/admin)' },
  'GET /api/v1/admin/events': { kind: 'unscoped', why: 'the asker\'s practice\'s own lines (test/integration/admin)' },
  'POST /api/v1/links/:code/redeem': { kind: 'unscoped', why: 'a one-time link, no practice principal: "links" below' },
  'POST /api/v1/sessions/expire-done': { kind: 'unscoped', why: 'expires the browser\'s own participant cookies, answers nothing' },
  'POST /api/v1/telemetry/first-frame': { kind: 'unscoped', why: 'a participant\'s page reports a timing to the metrics, reads nothing' },
  'GET /api/v1/setup/:code': { kind: 'unscoped', why: 'a one-time set-up link is the credential, no principal: test/integration/staff/setup-links' },
  'POST /api/v1/setup/:code': { kind: 'unscoped', why: 'a one-time set-up link is the credential, no principal: test/integration/staff/setup-links' },
  // Identity check and phone me instead (issue #18)
  'POST /api/v1/consultations/:id/callback/done': { kind: 'scoped', target: 'consultation', right: 'consultation.resend', ok: 200 },
  'POST /api/v1/links/:code/identity': { kind: 'unscoped', why: 'a one-time link\'s code, no practice principal: test/integration/http/identity' },
  'POST /api/v1/links/:code/callback': { kind: 'unscoped', why: 'a one-time link\'s code, no practice principal: test/integration/http/callback' },
  'POST /api/v1/links/:code/probe': { kind: 'unscoped', why: 'the connection check: the link\'s code is the credential, not used up, no practice principal: test/integration/media/probe' },
  'POST /api/v1/links/:code/probe/:id/connect': { kind: 'unscoped', why: 'the connection check: the link\'s code is the credential, not used up, no practice principal: test/integration/media/probe' },
  'DELETE /api/v1/links/:code/probe/:id': { kind: 'unscoped', why: 'the connection check: the link\'s code is the credential, not used up, no practice principal: test/integration/media/probe' },
  'POST /api/v1/links/:code/connection': { kind: 'unscoped', why: 'the connection check: the link\'s code is the credential, not used up, no practice principal: test/integration/media/probe' },
  // Peer-to-peer page telemetry (issue #17)
  'POST /api/v1/telemetry/p2p': { kind: 'unscoped', why: 'a participant\'s page reports its media path to the metrics, reads nothing: test/e2e/p2p-relay' },
};

/** What a browser would send to produce and connect (mediasoup checks the shape, not the media). */
const opus: Record<string, unknown> = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  encodings: [{ ssrc: 1111 }], headerExtensions: [], rtcp: { cname: 'isolation' },
};
const dtlsParameters = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }] };

/** An id of the right shape that names nothing. */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAAAA';

let server: TestServer;
let two: TwoPractices;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer();
  two = await twoPractices(server);
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

const holds = (c: Caller, right: Permission) => grants[c.kind === 'key' ? 'api_key' : c.kind].includes(right);

/** A new consultation of `practice`, made with its key. */
async function consultationOf(practice: 'A' | 'B', body: Record<string, unknown> = {}): Promise<{ id: string; clinicianUrl: string }> {
  const res = await two.call(two.caller(practice, 'key'), 'POST', '/api/v1/consultations', {
    patientPhone: '07700 900123', patientName: `Patient of ${practice}`, ...body,
  });
  expect(res.status).toBe(201);
  return res.body;
}

describe('every /api/v1 route', () => {
  const apiRoutes = () => [...new Set(server.app.routes()
    .filter((r) => !r.startsWith('HEAD ') && r.split(' ')[1]?.startsWith('/api/v1/')))];

  it('is in the isolation table (a new route needs a row)', () => {
    const missing = apiRoutes().filter((r) => !(r in table));
    expect(missing).toEqual([]);
    // And the table names no route that is gone.
    expect(Object.keys(table).filter((r) => !apiRoutes().includes(r))).toEqual([]);
  });

  /** A new one of practice A: each try has its own, as an end or a re-send changes what comes next. */
  const fresh: Record<Target, () => Promise<string>> = {
    consultation: async () => (await consultationOf('A')).id,
    user: async () => (await server.app.people.invite(two.ids.A, {
      email: `person.${randomUUID()}@practice-a.nhs.test`, displayName: 'New Person', roles: ['receptionist'],
    }, 'system')).user.id,
    key: async () => (await server.app.keys.create(two.ids.A, 'Another system', 'system')).record.id,
  };

  const scopedRoutes = Object.entries(table).flatMap(([r, row]) => (row.kind === 'scoped' ? [[r, row] as const] : []));

  it.each(scopedRoutes)('%s: own practice by the permission table; another practice\'s id is an unknown id', async (r, row) => {
    const [method, path] = r.split(' ') as [string, string];
    const at = (id: string) => path.replace(/:[A-Za-z]+/, id);
    for (const caller of two.callers) {
      const home = caller.practice === 'A';
      const id = await fresh[row.target]();
      const answer = await two.call(caller, method, at(id), row.body);
      const unknown = await two.call(caller, method, at(UNKNOWN_ID), row.body);
      const where = `${r} as ${caller.label}`;
      // A staff-only route refuses keys as it refuses a missing right.
      if (!holds(caller, row.right) || (row.staffOnly && caller.kind === 'key')) {
        // Refused for the right, whatever the id: the refusal says nothing of whose it is.
        expect(answer.status, where).toBe(403);
        expect(answer.body.error.code, where).toBe('forbidden');
        expect(answer.text, where).toBe(unknown.text);
      } else if (home) {
        expect(answer.status, `${where}: ${answer.text}`).toBe(row.ok);
      } else {
        expect(answer.status, where).toBe(404);
        expect(unknown.status, where).toBe(404);
        expect(answer.text, where).toBe(unknown.text);
      }
    }
  });

  it('the report counts only the asker\'s practice', async () => {
    for (const [r, row] of Object.entries(table)) {
      if (row.kind !== 'report') continue;
      const [method, path] = r.split(' ') as [string, string];
      for (const caller of two.callers) {
        const answer = await two.call(caller, method, `${path}${row.query}`);
        if (!holds(caller, row.right)) {
          expect(answer.status, `${r} as ${caller.label}`).toBe(403);
          continue;
        }
        expect(answer.status, `${r} as ${caller.label}`).toBe(200);
        const ods = (await server.app.store.getPractice(two.ids[caller.practice]))?.odsCode;
        expect(answer.body.practices.map((p: { odsCode: string }) => p.odsCode), caller.label).toEqual([ods]);
      }
    }
  });
});

describe('lists', () => {
  it('show each asker their own practice\'s consultations only; owner=me the clinician\'s own', async () => {
    const a = await consultationOf('A');
    const b = await consultationOf('B');
    const clinicianA = two.caller('A', 'clinician');
    const mine = await two.call(clinicianA, 'POST', '/api/v1/consultations', { patientPhone: '07700 900124' });
    expect(mine.status).toBe(201);
    for (const caller of two.callers.filter((c) => holds(c, 'consultation.read'))) {
      const list = await two.call(caller, 'GET', '/api/v1/consultations');
      expect(list.status, caller.label).toBe(200);
      const ids: string[] = list.body.consultations.map((c: { id: string }) => c.id);
      for (const id of ids) expect((await server.app.store.getConsultation(id))?.practiceId, caller.label).toBe(two.ids[caller.practice]);
      expect(ids, caller.label).toContain(caller.practice === 'A' ? a.id : b.id);
    }
    const own = await two.call(clinicianA, 'GET', '/api/v1/consultations?owner=me');
    expect(own.body.consultations.map((c: { id: string; mine: boolean }) => [c.id, c.mine])).toEqual([[mine.body.id, true]]);
    const ofB = await two.call(two.caller('B', 'clinician'), 'GET', '/api/v1/consultations?owner=me');
    expect(ofB.body.consultations).toEqual([]);
    const byKey = await two.call(two.caller('A', 'key'), 'GET', '/api/v1/consultations?owner=me');
    expect([byKey.status, byKey.body.error.code]).toEqual([400, 'validation_failed']);
  });

  it('a consultation cannot be made for another practice\'s clinician', async () => {
    const res = await two.call(two.caller('A', 'key'), 'POST', '/api/v1/consultations', {
      patientPhone: '07700 900123', clinicianEmail: two.caller('B', 'clinician').email,
    });
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
    const unknown = await two.call(two.caller('A', 'key'), 'POST', '/api/v1/consultations', {
      patientPhone: '07700 900123', clinicianEmail: 'nobody@practice-a.nhs.test',
    });
    expect(res.text).toBe(unknown.text);
  });
});

describe('links and sockets', () => {
  it('a session of A\'s consultation does not open B\'s at the socket handshake', async () => {
    const a = await consultationOf('A');
    const b = await consultationOf('B');
    const patientA = await redeem(server, await patientLink(server, a.id));
    // A's cookie as it is, naming B's consultation.
    await expect(connect(server, b.id, patientA.cookie, opened)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    // A's session under the name of B's cookie.
    const renamed = `${sessionCookieName(b.id)}=${patientA.cookie.split('=')[1]}`;
    await expect(connect(server, b.id, renamed, opened)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
  });

  it('each patient\'s text names the practice that holds their consultation', async () => {
    const a = await consultationOf('A');
    const b = await consultationOf('B');
    const texts = await server.outbox();
    const nameOf = async (p: 'A' | 'B') => (await server.app.store.getPractice(two.ids[p]))?.name as string;
    expect(texts.find((m) => m.consultationId === a.id)?.body.startsWith(`${await nameOf('A')}: `)).toBe(true);
    expect(texts.find((m) => m.consultationId === b.id)?.body.startsWith(`${await nameOf('B')}: `)).toBe(true);
    expect(await nameOf('A')).not.toBe(await nameOf('B'));
  });

  it('a link of practice B redeems, and grants nothing over A', async () => {
    const a = await consultationOf('A');
    const b = await consultationOf('B');
    const clinicianB = await redeem(server, b.clinicianUrl);
    expect(clinicianB.consultationId).toBe(b.id);
    const renamed = `${sessionCookieName(a.id)}=${clinicianB.cookie.split('=')[1]}`;
    await expect(connect(server, a.id, renamed, opened)).rejects.toMatchObject({ data: { code: 'unauthorized' } });
    // A participant's cookie is no principal of the practice API.
    for (const cookie of [clinicianB.cookie, renamed]) {
      const res = await fetch(`${server.url}/api/v1/consultations/${a.id}`, { headers: { cookie } });
      expect(res.status).toBe(401);
    }
  });

  it('a clinician\'s host events name only their own consultation\'s participants', async () => {
    const a = await consultationOf('A');
    const b = await consultationOf('B');
    const patientA = await redeem(server, await patientLink(server, a.id));
    const waiting = await joined(server, a.id, patientA.cookie, opened);
    expect(waiting.info.self.presence).toBe('waiting');
    const clinicianB = await redeem(server, b.clinicianUrl);
    const hostB = (await joined(server, b.id, clinicianB.cookie, opened)).socket;

    const admit = await hostB.timeout(5000).emitWithAck('admit', { id: patientA.participantId });
    expect(admit.ok).toBe(false);
    const message = await hostB.timeout(5000).emitWithAck('messageWaiting', { id: patientA.participantId, text: 'Come in' });
    expect(message.ok).toBe(false);
    const removal = await hostB.timeout(5000).emitWithAck('remove', { participantId: patientA.participantId });
    expect(removal).toMatchObject({ ok: false, error: { code: 'participant_not_found' } });

    // A's patient still waits with a working session: A's own clinician admits them.
    expect((await server.app.store.getConsultation(a.id))?.status).toBe('waiting');
    const clinicianA = await redeem(server, a.clinicianUrl);
    const hostA = (await joined(server, a.id, clinicianA.cookie, opened)).socket;
    const admitted = new Promise((resolve) => waiting.socket.once('admitted', resolve));
    expect(await hostA.timeout(5000).emitWithAck('admit', { id: patientA.participantId })).toEqual({ ok: true, data: {} });
    await admitted;

    // Media: B's clinician can neither consume, pause, close, speak for nor connect to A's clinician's.
    const send = await hostA.timeout(5000).emitWithAck('createTransport', { direction: 'send' });
    if (!send.ok) throw new Error(send.error.code);
    const produced = await hostA.timeout(5000).emitWithAck('produce', { transportId: send.data.id, kind: 'audio', rtpParameters: opus, source: 'mic' });
    if (!produced.ok) throw new Error(produced.error.code);
    const { producerId } = produced.data;
    const joinedB = await hostB.timeout(5000).emitWithAck('createTransport', { direction: 'recv' });
    expect(joinedB.ok).toBe(true);
    const rtpCapabilities = waiting.info.routerRtpCapabilities;
    expect(await hostB.timeout(5000).emitWithAck('consume', { producerId, rtpCapabilities })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await hostB.timeout(5000).emitWithAck('pauseProducer', { id: producerId, paused: true })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await hostB.timeout(5000).emitWithAck('closeProducer', { id: producerId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await hostB.timeout(5000).emitWithAck('sendingLayers', { id: producerId, layers: 1 })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect((await hostB.timeout(5000).emitWithAck('connectTransport', { transportId: send.data.id, dtlsParameters })).ok).toBe(false);
    // A's patient still receives it.
    expect((await waiting.socket.timeout(5000).emitWithAck('createTransport', { direction: 'recv' })).ok).toBe(true);
    expect(await waiting.socket.timeout(5000).emitWithAck('consume', { producerId, rtpCapabilities })).toMatchObject({ ok: true, data: { producerId, producerPaused: false } });

    // B's end ended B only.
    expect(await hostB.timeout(5000).emitWithAck('end', {})).toEqual({ ok: true, data: {} });
    expect((await server.app.store.getConsultation(a.id))?.status).toBe('in_call');
  });
});
