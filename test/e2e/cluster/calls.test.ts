/**
 * A region of three nodes behind deploy/region/nginx.conf (PostgreSQL, Redis, real processes):
 * a clinician whose page first reaches another node than the one holding the call is moved
 * there, and the call is held on that one node with video decoded both ways.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickButton, closeParticipants, openParticipant, waitForText } from '../../helpers/browser.js';
import { type Region, startRegion, until } from '../../helpers/cluster.js';
import { decodes, waitingPatient } from '../../helpers/journey.js';
import { explainFailure, joins, moves } from './pages.js';

let region: Region;
beforeAll(async () => {
  region = await startRegion();
}, 120_000);
afterAll(async () => {
  await closeParticipants();
  await region?.close();
});

describe('a call in a region of three nodes', () => {
  it('is held on one node, two-way, when its two pages first reach different nodes', async () => {
    explainFailure(region);
    const { id, clinicianUrl, patient } = await waitingPatient(region);
    // The patient waits: their media is set up on the node holding the consultation.
    await until(() => region.holders().length === 1, 10_000, 'one node carries the patient\'s media');
    const [holder] = region.holders();

    // The balancer spreads browsers' first connections over the nodes by their cookies: until the
    // clinician's page first reached another node (and was moved), it reloads with one more
    // cookie, as another browser would come in.
    const clinician = await openParticipant();
    await clinician.goto(clinicianUrl);
    for (let attempt = 1; ; attempt += 1) {
      await clickButton(clinician, 'Join');
      await clinician.waitForFunction(() => window.openconsult.timeline.some(([l]) => l === 'joined'), { timeout: 15_000 });
      if (await moves(clinician) > 0) {
        console.log(`the clinician's page was moved to ${holder?.id} on try ${attempt}`);
        break;
      }
      if (attempt === 8) throw new Error('the clinician\'s page reached the holder first every time');
      await clinician.setCookie({ name: 'another-browser', value: randomBytes(8).toString('hex'), url: region.url });
      await clinician.reload();
    }
    expect(await joins(clinician)).toBe(1);
    await clickButton(clinician, 'Admit');
    await Promise.all([decodes(patient, 10), decodes(clinician, 10)]);

    expect(region.holders().map((n) => n.id)).toEqual([holder?.id]);
    await Promise.all([waitForText(clinician, 'Ann Example is in the call'), waitForText(patient, 'Dr Bell is in the call')]);
    expect((await region.api('GET', `/api/v1/consultations/${id}`)).body.status).toBe('in_call');
  });
});
