/**
 * Node drained (SIGTERM), then a rolling upgrade: the draining node says not ready, a new
 * consultation is placed on another node, the call goes on where it is for DRAIN_GRACE and then
 * moves (its pages re-negotiate by themselves), and the node exits once empty. Restarting each of
 * the three nodes in turn while one call runs never stops its video for 10 s.
 */
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeParticipants, waitForText } from '../../helpers/browser.js';
import { type Region, type RegionNode, startRegion, until } from '../../helpers/cluster.js';
import { admittedCall, createConsultation, decodes } from '../../helpers/journey.js';
import { codeOf } from '../../helpers/server.js';
import { explainFailure, longestStill, newVideoAfter, sawWaitingRoom, watch } from './pages.js';

const DRAIN_GRACE_S = 4;

let region: Region;
beforeAll(async () => {
  region = await startRegion({ env: { DRAIN_GRACE: String(DRAIN_GRACE_S) } });
}, 120_000);
afterAll(async () => {
  await closeParticipants();
  await region?.close();
});

/** Where `node` itself (not the balancer) would have a page of a new consultation connect: its `moved` path, or itself. */
async function placedBy(node: RegionNode): Promise<string> {
  const created = await createConsultation(region);
  const redeemed = await fetch(`${region.url}/api/v1/links/${codeOf(created.patientUrl)}/redeem`, { method: 'POST' });
  expect(redeemed.status).toBe(200);
  const cookie = redeemed.headers.getSetCookie()[0]?.split(';')[0] ?? '';
  const socket = io(node.url, { auth: { consultationId: created.id }, extraHeaders: { cookie }, transports: ['websocket'], reconnection: false, forceNew: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('connect', () => resolve(node.id));
      socket.once('connect_error', (err: Error & { data?: { code?: string; path?: string } }) => {
        if (err.data?.code === 'moved') resolve(/^\/node\/([^/]+)\//.exec(err.data.path ?? '')?.[1] ?? '');
        else reject(err);
      });
    });
  } finally {
    socket.disconnect();
  }
}

async function notReady(node: RegionNode): Promise<void> {
  await until(async () => (await node.ready()).status === 503, 5_000, `${node.id} says it is not ready`);
}

describe('draining nodes', () => {
  it('keeps the call where it is for the grace, places new ones elsewhere, then moves it and exits', async () => {
    explainFailure(region);
    const { id, patient, clinician } = await admittedCall(region);
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);
    await Promise.all([watch(patient), watch(clinician)]);
    const [holder] = region.holders();
    if (!holder) throw new Error('no node holds the call');

    const termAt = Date.now();
    holder.terminate();
    await notReady(holder);
    expect((await holder.ready()).body).toMatchObject({ status: 'not_ready', checks: { accepting: false } });
    const other = await placedBy(holder);
    expect(other).not.toBe(holder.id);
    expect(region.nodes.map((n) => n.id)).toContain(other);
    // Within the grace the call goes on where it is.
    expect(region.holders().map((n) => n.id)).toEqual([holder.id]);

    const [p, c] = await Promise.all([newVideoAfter(patient, termAt, (DRAIN_GRACE_S + 15) * 1000), newVideoAfter(clinician, termAt, (DRAIN_GRACE_S + 15) * 1000)]);
    expect(Math.min(p, c) - termAt).toBeGreaterThanOrEqual(DRAIN_GRACE_S * 1000);
    expect(await holder.exited()).toBe(0);
    const still = Math.max(await longestStill(patient, termAt), await longestStill(clinician, termAt));
    console.log(`drain: moved after the ${DRAIN_GRACE_S} s grace; longest still video ${still} ms`);
    expect(still).toBeLessThan(10_000);
    expect(region.holders().map((n) => n.id)).not.toContain(holder.id);
    expect((await region.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
    expect(await sawWaitingRoom(patient)).toBe(false);
    await closeParticipants();
    await holder.start();
  }, 120_000);

  it('restarts every node in turn while a call runs, its video never still for 10 s', async () => {
    explainFailure(region);
    const { id, patient, clinician } = await admittedCall(region);
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);
    await Promise.all([watch(patient), watch(clinician)]);
    const from = Date.now();
    for (const node of region.nodes) {
      const held = region.holders().some((n) => n.id === node.id);
      node.terminate();
      expect(await node.exited()).toBe(0);
      await node.start();
      console.log(`rolling upgrade: ${node.id} restarted${held ? ' (it held the call)' : ''}`);
    }
    // Wait for the video to run again after the last move, then measure.
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);
    const still = Math.max(await longestStill(patient, from), await longestStill(clinician, from));
    console.log(`rolling upgrade of ${region.nodes.length} nodes: longest still video ${still} ms`);
    expect(still).toBeLessThan(10_000);
    expect((await region.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
    await Promise.all([waitForText(clinician, 'Ann Example is in the call'), waitForText(patient, 'Dr Bell is in the call')]);
    expect(await sawWaitingRoom(patient)).toBe(false);
  }, 180_000);
});
