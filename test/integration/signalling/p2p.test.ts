/**
 * Peer-to-peer for two (issue #17), the server's side: which path each page is told, and the relay
 * of their signals, only between the two admitted members it paired.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MediaPathInfo, P2pSignal } from '../../../signalling/events.js';
import { type ClientSocket, connect, joined, patientLink, redeem } from '../../helpers/participants.js';
import { type TestServer, startServer } from '../../helpers/server.js';
import { P2P_HOLD_MS } from '../../../server/signalling/path.js';

let server: TestServer;
let off: TestServer;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  [server, off] = await Promise.all([startServer({ p2pMode: 'prefer' }), startServer({ p2pMode: 'off' })]);
});
afterEach(() => {
  for (const s of opened.splice(0)) s.disconnect();
});
afterAll(async () => {
  await Promise.all([server?.close(), off?.close()]);
});

/** Every `mediaPath` a socket is told, from before it joins. */
function paths(s: ClientSocket): MediaPathInfo[] {
  const seen: MediaPathInfo[] = [];
  s.on('mediaPath', (p) => seen.push(p));
  return seen;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A clinician in the call and an admitted patient, each with the paths they are told. */
async function pair(on: TestServer) {
  const created = await on.api('POST', '/api/v1/consultations', { patientPhone: '07700 900123', patientName: 'Pat', clinicianName: 'Dr Jones' });
  const id = created.body.id as string;
  const patient = await redeem(on, await patientLink(on, id));
  const clinician = await redeem(on, created.body.clinicianUrl as string);
  const ps = await connect(on, id, patient.cookie, opened);
  const patientPaths = paths(ps);
  await ps.emitWithAck('join', {});
  const cs = await connect(on, id, clinician.cookie, opened);
  const clinicianPaths = paths(cs);
  await cs.emitWithAck('join', {});
  return { id, ps, cs, patient, clinician, patientPaths, clinicianPaths };
}

describe('media path and the p2p relay', () => {
  it('tells the two admitted members to go direct with each other, one of them polite', async () => {
    const { cs, ps, patient, clinician, patientPaths, clinicianPaths } = await pair(server);
    expect(clinicianPaths).toEqual([]); // the patient still waits
    expect((await cs.emitWithAck('admit', { id: patient.participantId })).ok).toBe(true);
    await until(() => patientPaths.length > 0 && clinicianPaths.length > 0);
    const [p, c] = [patientPaths[0], clinicianPaths[0]];
    expect(p).toMatchObject({ path: 'p2p', peerId: clinician.participantId, iceTransportPolicy: 'all' });
    expect(c).toMatchObject({ path: 'p2p', peerId: patient.participantId, iceTransportPolicy: 'all' });
    expect(p?.path === 'p2p' && c?.path === 'p2p' && p.polite !== c.polite).toBe(true);

    const got: P2pSignal[] = [];
    cs.on('p2pSignal', (m) => got.push(m));
    const ack = await ps.emitWithAck('p2pSignal', { to: clinician.participantId, description: { type: 'offer', sdp: 'v=0\r\n' } });
    expect(ack).toEqual({ ok: true, data: {} });
    await until(() => got.length === 1);
    expect(got[0]).toEqual({ from: patient.participantId, description: { type: 'offer', sdp: 'v=0\r\n' } });
  });

  it('refuses signals to anyone but the paired peer, and malformed or oversized ones', async () => {
    const { cs, ps, patient, clinician } = await pair(server);
    await cs.emitWithAck('admit', { id: patient.participantId });
    const toStranger = await ps.emitWithAck('p2pSignal', { to: 'someone-else', state: 'direct' });
    expect(toStranger).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
    const toSelf = await ps.emitWithAck('p2pSignal', { to: patient.participantId, state: 'direct' });
    expect(toSelf).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
    const huge = await ps.emitWithAck('p2pSignal', { to: clinician.participantId, description: { type: 'offer', sdp: 'x'.repeat(40_000) } });
    expect(huge).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const both = await ps.emitWithAck('p2pSignal', {
      to: clinician.participantId, state: 'direct', candidate: { candidate: '' },
    } as never);
    expect(both).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    const nothing = await ps.emitWithAck('p2pSignal', { to: clinician.participantId } as never);
    expect(nothing).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
  });

  it('relays nothing from or to a waiting patient', async () => {
    const { cs, ps, clinician, patient } = await pair(server);
    const got: P2pSignal[] = [];
    cs.on('p2pSignal', (m) => got.push(m));
    // A waiting patient has no call handlers: the event is not even answered.
    await expect(ps.timeout(500).emitWithAck('p2pSignal', { to: clinician.participantId, state: 'direct' })).rejects.toThrow();
    const toWaiting = await cs.emitWithAck('p2pSignal', { to: patient.participantId, state: 'direct' });
    expect(toWaiting).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
    expect(got).toEqual([]);
  });

  it('moves the two back to the SFU when a third is admitted, and direct again after the hold once they leave', async () => {
    const { id, cs, patient, patientPaths, clinicianPaths } = await pair(server);
    await cs.emitWithAck('admit', { id: patient.participantId });
    await until(() => clinicianPaths.length === 1);
    const invited = await cs.emitWithAck('invite', { label: 'Carer' });
    if (!invited.ok) throw new Error('invite refused');
    const guest = await redeem(server, invited.data.url);
    const gs = await connect(server, id, guest.cookie, opened);
    const guestPaths = paths(gs);
    await gs.emitWithAck('join', {});
    await cs.emitWithAck('admit', { id: guest.participantId });
    await until(() => patientPaths.length === 2 && clinicianPaths.length === 2);
    expect(patientPaths[1]).toEqual({ path: 'sfu' });
    expect(clinicianPaths[1]).toEqual({ path: 'sfu' });
    const stale = await cs.emitWithAck('p2pSignal', { to: patient.participantId, state: 'direct' });
    expect(stale).toMatchObject({ ok: false, error: { code: 'invalid_state' } });

    const left = Date.now();
    await gs.emitWithAck('leave', {});
    await until(() => clinicianPaths.length === 3 && patientPaths.length === 3, P2P_HOLD_MS + 5000);
    expect(Date.now() - left).toBeGreaterThanOrEqual(P2P_HOLD_MS - 100);
    expect(clinicianPaths[2]).toMatchObject({ path: 'p2p', peerId: patient.participantId });
    expect(guestPaths.filter((p) => p.path === 'p2p')).toEqual([]);
  });

  it('keeps a pair on the SFU once one page gave up on the direct connection', async () => {
    const { cs, ps, patient, clinician, clinicianPaths } = await pair(server);
    await cs.emitWithAck('admit', { id: patient.participantId });
    await until(() => clinicianPaths.length === 1);
    expect((await ps.emitWithAck('p2pSignal', { to: clinician.participantId, state: 'sfu' })).ok).toBe(true);
    const after = await ps.emitWithAck('p2pSignal', { to: clinician.participantId, state: 'direct' });
    expect(after).toMatchObject({ ok: false, error: { code: 'invalid_state' } });
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/openconsult_p2p_fallbacks_total [1-9]/);
  });

  it('P2P_MODE=off: never a direct connection', async () => {
    const { cs, patient, patientPaths, clinicianPaths } = await pair(off);
    await cs.emitWithAck('admit', { id: patient.participantId });
    await cs.emitWithAck('chat', { text: 'hello' }); // a round trip after the admission's messages
    expect([...patientPaths, ...clinicianPaths].filter((p) => p.path === 'p2p')).toEqual([]);
  });
});
