/**
 * Sessions end when they should (issue #13, items 2, 4, 6 and 9): a re-sent link or a removal
 * revokes every earlier session of that person, cookies of closed consultations are expired and
 * each cookie lives only as long as its consultation can, and Secure follows PUBLIC_URL.
 */
import jwt from 'jsonwebtoken';
import { io, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ClientToServerEvents, JoinInfo, ServerToClientEvents } from '../../../signalling/events.js';
import { TEST_API_KEY, type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const ACK_MS = 5000;
let server: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  server = await startServer();
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await server?.close();
});

/** A browser's cookies for the server: Set-Cookie headers applied as a browser would (Max-Age=0 deletes). */
class CookieJar {
  readonly cookies = new Map<string, string>();

  header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ');
  }

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';').map((p) => p.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const expired = attrs.some((a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1));
    }
  }

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(url, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: this.header() } });
    this.take(res);
    return res;
  }
}

interface Made {
  id: string;
  patientCode: string;
  clinicianCode: string;
}

async function consultation(s = server): Promise<Made> {
  const created = await s.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Pat Example', clinicianName: 'Dr Jones' });
  expect(created.status).toBe(201);
  const sms = (await s.outbox()).filter((m) => m.consultationId === created.body.id).at(-1);
  if (!sms) throw new Error('no SMS');
  return { id: created.body.id, patientCode: codeOf(linkIn(sms.body)), clinicianCode: codeOf(created.body.clinicianUrl) };
}

async function redeem(jar: CookieJar, code: string, s = server): Promise<Response> {
  return jar.fetch(`${s.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
}

function socketFor(consultationId: string, jar: CookieJar, s = server): ClientSocket {
  const socket: ClientSocket = io(s.url, {
    auth: { consultationId }, extraHeaders: { cookie: jar.header() }, transports: ['websocket'], reconnection: false, forceNew: true,
  });
  opened.push(socket);
  return socket;
}

function outcome(s: ClientSocket): Promise<{ connected: true } | { connected: false; code: string | undefined }> {
  return new Promise((resolve) => {
    s.once('connect', () => resolve({ connected: true }));
    s.once('connect_error', (err) => resolve({ connected: false, code: (err as Error & { data?: { code?: string } }).data?.code }));
  });
}

async function joined(consultationId: string, jar: CookieJar): Promise<{ socket: ClientSocket; info: JoinInfo }> {
  const socket = socketFor(consultationId, jar);
  expect(await outcome(socket)).toEqual({ connected: true });
  const res = await socket.timeout(ACK_MS).emitWithAck('join', {});
  if (!res.ok) throw new Error(`join failed: ${res.error.code}`);
  return { socket, info: res.data };
}

function disconnected(s: ClientSocket): Promise<string> {
  return new Promise((resolve) => s.once('disconnect', resolve));
}

const maxAgeOf = (res: Response) => Number(/max-age=(\d+)/i.exec(res.headers.getSetCookie()[0] ?? '')?.[1]);

describe('revocation', () => {
  it('a re-sent link ends the old link\'s session: no connection, no seat, no renewal', async () => {
    const c = await consultation();
    const oldBrowser = new CookieJar();
    expect((await redeem(oldBrowser, c.patientCode)).status).toBe(200);
    const { socket: oldSocket, info } = await joined(c.id, oldBrowser);
    expect(info.self.presence).toBe('waiting');

    const gone = disconnected(oldSocket);
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/resend`)).status).toBe(200);
    expect(await gone).toBe('io server disconnect');

    // The old session can no longer connect, nor be renewed by redeeming the old code again.
    expect(await outcome(socketFor(c.id, oldBrowser))).toEqual({ connected: false, code: 'unauthorized' });
    const again = await redeem(oldBrowser, c.patientCode);
    expect(again.status).toBe(410);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('link_used');
    expect(oldBrowser.cookies.size).toBe(0); // the revoked session's cookie was expired

    // The new link works, and its holder waits like anyone else.
    const newCode = codeOf(linkIn((await server.outbox()).filter((m) => m.consultationId === c.id).at(-1)?.body ?? ''));
    const newBrowser = new CookieJar();
    expect((await redeem(newBrowser, newCode)).status).toBe(200);
    expect((await joined(c.id, newBrowser)).info.self.presence).toBe('waiting');
  });

  it('a connection of the old session that has not joined yet is closed too, so it cannot join later', async () => {
    const c = await consultation();
    const oldBrowser = new CookieJar();
    await redeem(oldBrowser, c.patientCode);
    const socket = socketFor(c.id, oldBrowser); // connected on the camera check, Join not pressed
    expect(await outcome(socket)).toEqual({ connected: true });
    const told = new Promise<void>((resolve) => socket.once('removed', resolve));
    const gone = disconnected(socket);
    expect((await server.api('POST', `/api/v1/consultations/${c.id}/resend`)).status).toBe(200);
    await told;
    expect(await gone).toBe('io server disconnect');
    expect((await server.api('GET', `/api/v1/consultations/${c.id}`)).body.status).toBe('created');
  });

  it('the clinician removes someone from the call: disconnected, sessions and link revoked, audited without names', async () => {
    const c = await consultation();
    const patient = new CookieJar();
    const clinician = new CookieJar();
    await redeem(patient, c.patientCode);
    await redeem(clinician, c.clinicianCode);
    const { socket: patientSocket, info: patientInfo } = await joined(c.id, patient);
    const { socket: clinicianSocket, info: clinicianInfo } = await joined(c.id, clinician);
    expect((await clinicianSocket.timeout(ACK_MS).emitWithAck('admit', { id: patientInfo.self.id })).ok).toBe(true);

    const gone = disconnected(patientSocket);
    const removed = await clinicianSocket.timeout(ACK_MS).emitWithAck('remove', { participantId: patientInfo.self.id });
    expect(removed).toEqual({ ok: true, data: {} });
    expect(await gone).toBe('io server disconnect');
    expect(await outcome(socketFor(c.id, patient))).toEqual({ connected: false, code: 'unauthorized' });
    expect((await redeem(patient, c.patientCode)).status).toBe(410);

    const got = (await server.api('GET', `/api/v1/consultations/${c.id}`)).body as { participants: { id: string; presence: string }[] };
    expect(got.participants.find((p) => p.id === patientInfo.self.id)?.presence).toBe('left');
    const events = (await server.api('GET', `/api/v1/consultations/${c.id}/events`)).body as { events?: unknown[] } | unknown[];
    const list = (Array.isArray(events) ? events : events.events ?? []) as { actor: string; type: string; detail: unknown }[];
    const audit = list.find((e) => e.type === 'removed');
    expect(audit).toMatchObject({ actor: 'clinician', detail: { participantId: patientInfo.self.id, role: 'patient' } });
    expect(JSON.stringify(audit)).not.toMatch(/Pat Example|Dr Jones/);

    // Nobody removes the clinician, and unknown people are refused with a code.
    const self = await clinicianSocket.timeout(ACK_MS).emitWithAck('remove', { participantId: clinicianInfo.self.id });
    expect(self).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
  });

  it('a stranger\'s id is refused with participant_not_found', async () => {
    const c = await consultation();
    const clinician = new CookieJar();
    await redeem(clinician, c.clinicianCode);
    const { socket } = await joined(c.id, clinician);
    expect(await socket.timeout(ACK_MS).emitWithAck('remove', { participantId: 'nobody' }))
      .toMatchObject({ ok: false, error: { code: 'participant_not_found' } });
  });
});

describe('session cookies', () => {
  it('a clinician browser that went through 40 consultations gets through the 41st, holding only open ones', async () => {
    const browser = new CookieJar();
    for (let i = 1; i <= 41; i++) {
      const c = await consultation();
      // The page is fetched first (GET never uses the link), then redeemed, as the browser does.
      expect((await browser.fetch(`${server.url}/j/${c.clinicianCode}`)).status).toBe(200);
      const res = await redeem(browser, c.clinicianCode);
      expect(res.status, `consultation ${i}`).toBe(200);
      expect([...browser.cookies.keys()]).toEqual([`oc_s_${c.id}`]);
      if (i < 41) expect((await server.api('POST', `/api/v1/consultations/${c.id}/end`)).status).toBe(200);
    }
  });

  it('the ended page\'s request expires the cookie of a consultation that is over and keeps the open one', async () => {
    const browser = new CookieJar();
    const [over, open] = [await consultation(), await consultation()];
    for (const c of [over, open]) expect((await redeem(browser, c.clinicianCode)).status).toBe(200);
    expect((await server.api('POST', `/api/v1/consultations/${over.id}/end`)).status).toBe(200);
    const res = await browser.fetch(`${server.url}/api/v1/sessions/expire-done`, { method: 'POST' });
    expect(res.status).toBe(204);
    expect([...browser.cookies.keys()]).toEqual([`oc_s_${open.id}`]);
  });

  it('a session lasts as long as its consultation can: past the link\'s 24 hours, then capped by the call', async () => {
    const c = await consultation();
    const patient = new CookieJar();
    const first = await redeem(patient, c.patientCode);
    const wait = 30 * 60;
    const call = 90 * 60;
    // Opened early: the session outlives the link (24 h) by the wait and the call at most.
    expect(maxAgeOf(first)).toBeGreaterThan(24 * 3600);
    expect(maxAgeOf(first)).toBeLessThanOrEqual(24 * 3600 + wait + call);
    const token = [...patient.cookies.values()][0] ?? '';
    const { exp = 0, iat = 0 } = jwt.decode(token) as jwt.JwtPayload;
    expect(exp - iat).toBe(maxAgeOf(first));

    // Once the call runs, a renewed cookie ends with the call.
    const clinician = new CookieJar();
    await redeem(clinician, c.clinicianCode);
    const { info } = await joined(c.id, patient);
    const { socket } = await joined(c.id, clinician);
    expect((await socket.timeout(ACK_MS).emitWithAck('admit', { id: info.self.id })).ok).toBe(true);
    const renewed = await redeem(patient, c.patientCode);
    expect(renewed.status).toBe(200);
    expect(maxAgeOf(renewed)).toBeLessThanOrEqual(call);
  });

  it('the session cookie is Secure and __Host- named when PUBLIC_URL is https, even if the request came as plain http', async () => {
    const served = await startServer({ publicUrl: 'https://consult.example' });
    // Links name PUBLIC_URL; the test reaches the server where it listens (as a TLS proxy would).
    const address = served.app.http.server.address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    const tls: TestServer = { ...served, url, api: async (method, route, body) => {
      const res = await fetch(`${url}${route}`, { method, headers: { authorization: `Bearer ${TEST_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return { status: res.status, body: await res.json(), headers: res.headers };
    } };
    try {
      const c = await consultation(tls);
      const browser = new CookieJar();
      const res = await redeem(browser, c.clinicianCode, tls);
      expect(res.status).toBe(200);
      const line = res.headers.getSetCookie()[0] ?? '';
      expect(line.startsWith(`__Host-oc_s_${c.id}=`)).toBe(true);
      expect(line).toMatch(/;\s*Secure/i);
      expect(line).toMatch(/;\s*Path=\//i);
      expect(line).not.toMatch(/Domain=/i);
      // The handshake reads the same name.
      expect(await outcome(socketFor(c.id, browser, tls))).toEqual({ connected: true });
    } finally {
      for (const s of opened.splice(0)) s.disconnect();
      await tls.close();
    }
  });
});
