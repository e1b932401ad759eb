/**
 * The connection check's routes and transports against the real server and a real mediasoup
 * worker: what authenticates a check (the link's code, not used up), the caps, coded errors,
 * transports closed after use, and the result reaching the clinician's view of the participant.
 */
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBES_PER_WINDOW } from '../../../server/media/probe.js';
import { createConsultation } from '../../helpers/journey.js';
import { type TestServer, startServer } from '../../helpers/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ turnUrls: ['turn:127.0.0.1:3478?transport=tcp'], turnSecret: 'probe-test-secret' });
});
afterAll(async () => {
  await server?.close();
});

const codeOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);
const post = (path: string, body?: unknown) => fetch(`${server.url}${path}`, {
  method: 'POST', headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
});
const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

describe('the connection check routes', () => {
  it('opens a check transport for a usable link without using the link up, with the relay and its ephemeral credentials', async () => {
    const { patientUrl } = await createConsultation(server);
    const code = codeOf(patientUrl);

    const res = await post(`/api/v1/links/${code}/probe`);
    expect(res.status).toBe(200);
    const probe = (await res.json()) as Record<string, any>;
    expect(probe.iceCandidates.length).toBeGreaterThan(0);
    expect(probe.sctpParameters).toHaveProperty('port');
    expect(probe.iceServers).toEqual([{ urls: ['turn:127.0.0.1:3478?transport=tcp'], username: expect.stringMatching(/^\d+:/), credential: expect.any(String) }]);

    expect((await fetch(`${server.url}/api/v1/links/${code}/probe/${probe.id}`, { method: 'DELETE' })).status).toBe(204);
    // The link still redeems: the check used nothing up.
    expect((await post(`/api/v1/links/${code}/redeem`)).status).toBe(200);
    // ... and the page that holds its session may still check.
    expect((await post(`/api/v1/links/${code}/probe`)).status).toBe(200);
  });

  it('refuses a code that is not a link, and a link whose consultation is over, as link_not_found', async () => {
    const res = await post('/api/v1/links/AAAAAAAAAAAAAAAAAAAAAA/probe');
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('link_not_found');

    const { id, patientUrl } = await createConsultation(server);
    await server.api('POST', `/api/v1/consultations/${id}/end`);
    const ended = await post(`/api/v1/links/${codeOf(patientUrl)}/probe`);
    expect(ended.status).toBe(404);
    expect(await errorCode(ended)).toBe('link_not_found');
  });

  it(`allows one participant ${PROBES_PER_WINDOW} checks in ten minutes, then answers rate_limited`, async () => {
    const { patientUrl } = await createConsultation(server);
    const code = codeOf(patientUrl);
    for (let i = 0; i < PROBES_PER_WINDOW; i++) expect((await post(`/api/v1/links/${code}/probe`)).status).toBe(200);
    const res = await post(`/api/v1/links/${code}/probe`);
    expect(res.status).toBe(429);
    expect(await errorCode(res)).toBe('rate_limited');
  });

  it('answers bad bodies with validation_failed and a check that is over with not_found', async () => {
    const { patientUrl } = await createConsultation(server);
    const code = codeOf(patientUrl);
    const probe = (await (await post(`/api/v1/links/${code}/probe`)).json()) as { id: string };

    const bad = await post(`/api/v1/links/${code}/probe/${probe.id}/connect`, { dtlsParameters: { fingerprints: [] } });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('validation_failed');
    const kind = await post(`/api/v1/links/${code}/connection`, { kind: 'excellent' });
    expect(kind.status).toBe(400);
    expect(await errorCode(kind)).toBe('validation_failed');

    await fetch(`${server.url}/api/v1/links/${code}/probe/${probe.id}`, { method: 'DELETE' });
    const over = await post(`/api/v1/links/${code}/probe/${probe.id}/connect`, {
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    });
    expect(over.status).toBe(404);
    expect(await errorCode(over)).toBe('not_found');
  });

  it("gives the clinician the patient's connection kind in the participant's view, before and after the patient joins", async () => {
    const { id, patientUrl, clinicianUrl } = await createConsultation(server);
    const patientCode = codeOf(patientUrl);
    expect((await post(`/api/v1/links/${patientCode}/connection`, { kind: 'relay' })).status).toBe(204);

    const sockets: Socket[] = [];
    try {
      const join = async (code: string) => {
        const redeemed = await post(`/api/v1/links/${code}/redeem`);
        const cookie = (redeemed.headers.get('set-cookie') ?? '').split(';')[0] as string;
        const socket = io(server.url, { auth: { consultationId: id }, extraHeaders: { cookie }, transports: ['websocket'] });
        sockets.push(socket);
        const info = await socket.timeout(10_000).emitWithAck('join', {});
        return { socket, info };
      };
      const clinician = await join(codeOf(clinicianUrl));
      const seen = new Promise<unknown>((resolve) => clinician.socket.on('participant', (p: { role: string }) => p.role === 'patient' && resolve(p)));
      await join(patientCode);
      expect(await seen).toMatchObject({ role: 'patient', presence: 'waiting', connection: 'relay' });

      // A later check (another Wi-Fi) is told at once.
      const again = new Promise<unknown>((resolve) => clinician.socket.on('participant', (p: { connection?: string }) => p.connection === 'direct' && resolve(p)));
      expect((await post(`/api/v1/links/${patientCode}/connection`, { kind: 'direct' })).status).toBe(204);
      expect(await again).toMatchObject({ role: 'patient', connection: 'direct' });
    } finally {
      for (const s of sockets) s.disconnect();
    }
  });
});
