/**
 * No phone number, name or link code in any log line: the logs of a whole journey (create,
 * SMS, page load, redemption, waiting room, admission, a refused link, the end) at the most
 * verbose level are captured and searched.
 */
import { Writable } from 'node:stream';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/log.js';
import { type TestServer, codeOf, linkIn, startServer } from '../../helpers/server.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk: Buffer, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ logLevel: 'trace' }, { logger: createLogger('trace', sink) });
});
afterAll(async () => {
  await server?.close();
});

async function redeem(code: string) {
  const res = await fetch(`${server.url}/api/v1/links/${code}/redeem`, { method: 'POST' });
  return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string };
}

describe('logs of a whole journey', () => {
  it('hold no phone number, name or link code', async () => {
    const phone = '07700 900987';
    const created = await server.api('POST', '/api/v1/consultations', {
      patientPhone: phone, patientName: 'Zebedee Quartermaine', clinicianName: 'Dr Xanthippe Ollerenshaw',
    });
    const patientCode = codeOf(linkIn((await server.outbox()).find((m) => m.consultationId === created.body.id)!.body));
    const clinicianCode = codeOf(created.body.clinicianUrl);
    await fetch(`${server.url}/j/${patientCode}`);
    await fetch(`${server.url}/j/not-a-real-code-at-all`);
    const patient = await redeem(patientCode);
    expect((await redeem(patientCode)).status).toBe(410); // a refused replay is logged too
    const clinician = await redeem(clinicianCode);
    await server.api('POST', '/api/v1/consultations', { patientPhone: '020 7946 0000' }); // refused number

    const connect = (cookie: string) => io(server.url, { auth: { consultationId: created.body.id }, extraHeaders: { cookie }, reconnection: false });
    const p = connect(patient.cookie);
    const c = connect(clinician.cookie);
    const pJoin = await p.timeout(5000).emitWithAck('join', {});
    const cJoin = await c.timeout(5000).emitWithAck('join', {});
    expect(pJoin.ok && cJoin.ok).toBe(true);
    expect((await c.timeout(5000).emitWithAck('admit', { id: pJoin.data.self.id })).ok).toBe(true);
    expect((await c.timeout(5000).emitWithAck('end', {})).ok).toBe(true);
    p.close();
    c.close();

    const all = lines.join('\n');
    expect(lines.length).toBeGreaterThan(10); // the journey really was logged
    for (const secret of [
      '07700 900987', '+447700900987', '7700900987', '900987', '7946 0000',
      'Zebedee', 'Quartermaine', 'Xanthippe', 'Ollerenshaw', patientCode, clinicianCode,
    ]) {
      expect(all, `logs contain ${secret}`).not.toContain(secret);
    }
  });

  it('treat a guest\'s label as personal data: not in the logs, not in the audit log', async () => {
    const created = await server.api('POST', '/api/v1/consultations', { patientPhone: '07700 900988' });
    const label = 'Daughter of Mrs Winterbottom';
    const invited = await server.api('POST', `/api/v1/consultations/${created.body.id}/guests`, { label, name: 'Ottoline Fanshawe', phone: '07700 900989' });
    expect(invited.status).toBe(201);
    const events = await server.api('GET', `/api/v1/consultations/${created.body.id}/events`);
    const invitation = (events.body.events as { type: string; detail: unknown }[]).find((e) => e.type === 'guest_invited');
    expect(invitation?.detail).toEqual({ participantId: invited.body.participantId });
    const all = lines.join('\n');
    for (const secret of ['Winterbottom', 'Ottoline', 'Fanshawe', '900989']) {
      expect(all, `logs contain ${secret}`).not.toContain(secret);
      expect(JSON.stringify(events.body), `audit log contains ${secret}`).not.toContain(secret);
    }
  });
});
