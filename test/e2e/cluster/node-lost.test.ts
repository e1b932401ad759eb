/**
 * Node lost: the node carrying a call is SIGKILLed. The consultation is placed on another node,
 * both pages re-negotiate by themselves and decode video again within 10 s, the patient is never
 * shown the waiting room, and the call's time limit (a deadline set before the kill) still ends
 * it exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, waitForText } from '../../helpers/browser.js';
import { type Region, startRegion } from '../../helpers/cluster.js';
import { admittedCall, decodes } from '../../helpers/journey.js';
import { explainFailure, newVideoAfter, sawWaitingRoom, watch } from './pages.js';

/** Long enough for the kill and the recovery, short enough to wait for. */
const CALL_LIMIT_S = 30;

let region: Region;
beforeAll(async () => {
  region = await startRegion({ env: { MAX_CALL_DURATION: String(CALL_LIMIT_S) } });
}, 120_000);
afterAll(async () => {
  await closeParticipants();
  await region?.close();
});

describe('a node lost mid-call', () => {
  it('moves the call to another node: both pages get video back within 10 s, and its time limit ends it once', async () => {
    explainFailure(region);
    const { id, patient, clinician } = await admittedCall(region);
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);
    await Promise.all([watch(patient), watch(clinician)]);
    const [holder] = region.holders();
    expect(holder).toBeDefined();

    const killedAt = Date.now();
    await holder?.kill();
    const [p, c] = await Promise.all([newVideoAfter(patient, killedAt, 15_000), newVideoAfter(clinician, killedAt, 15_000)]);
    const recovery = Math.max(p, c) - killedAt;
    console.log(`node lost -> remote video again: patient ${p - killedAt} ms, clinician ${c - killedAt} ms`);
    expect(recovery).toBeLessThan(10_000);

    const now = region.holders();
    expect(now).toHaveLength(1);
    expect(now[0]?.id).not.toBe(holder?.id);
    expect((await region.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
    await waitForText(clinician, 'Ann Example is in the call');
    expect(await sawWaitingRoom(patient)).toBe(false);

    // The time limit set at admission fires on one of the nodes left, once.
    const ended = 'The consultation reached its time limit and has ended.';
    await Promise.all([waitForText(patient, ended, CALL_LIMIT_S * 1000), waitForText(clinician, ended, CALL_LIMIT_S * 1000)]);
    const events = (await region.api('GET', `/api/v1/consultations/${id}/events`)).body.events as { type: string; detail: { to?: string; reason?: string } | null }[];
    const ends = events.filter((e) => e.type === 'status' && e.detail?.to === 'ended');
    expect(ends).toHaveLength(1);
    expect(ends[0]?.detail?.reason).toBe('call_time_limit');
    expect(await sawWaitingRoom(patient)).toBe(false);
  }, 120_000);
});
