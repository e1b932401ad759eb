/**
 * Media sessions on a real mediasoup worker: a consultation opens its router only when the
 * first transport is asked for, everyone in it shares that one router, and a consultation that
 * ends while its router is opening leaves nothing behind.
 */
import * as mediasoup from 'mediasoup';
import type { Router, Worker } from 'mediasoup/node/lib/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../server/errors.js';
import { createLogger } from '../../../server/log.js';
import { WorkerPool } from '../../../server/media/pool.js';
import { MediaSessions } from '../../../server/media/sessions.js';

let pool: WorkerPool;
const live = new Set<Router>();
const onWorker = (w: Worker) => w.observer.on('newrouter', (r: Router) => {
  live.add(r);
  r.observer.once('close', () => live.delete(r));
});

beforeAll(async () => {
  mediasoup.observer.on('newworker', onWorker);
  pool = await WorkerPool.create({ size: 1, rtcMinPort: 46000, rtcMaxPort: 46999, logger: createLogger('silent') });
});
afterAll(async () => {
  mediasoup.observer.off('newworker', onWorker);
  await pool?.close();
});

const settings = { listenInfos: [{ protocol: 'udp' as const, ip: '127.0.0.1' }] };

describe('media sessions', () => {
  it('joining opens no router; the first transport does, and both participants share it', async () => {
    const sessions = new MediaSessions(pool, settings);
    const [a, b] = await Promise.all([sessions.getOrCreate('c1'), sessions.getOrCreate('c1')]);
    expect(a).toBe(b);
    expect(live.size).toBe(0); // the capabilities' probe router is closed again

    // The capabilities handed out before any router exists are those of a real router.
    const probe = await pool.createRouter();
    expect(a.rtpCapabilities).toEqual(probe.rtpCapabilities);
    probe.close();

    const [t1, t2] = await Promise.all([a.createTransport('patient', 'send'), a.createTransport('clinician', 'send')]);
    expect(t1.id).not.toBe(t2.id);
    expect(live.size).toBe(1);

    sessions.close('c1');
    expect(live.size).toBe(0);
    expect(sessions.get('c1')).toBeUndefined();
  });

  it('a consultation that ends while its router opens closes that router and refuses the transport', async () => {
    const sessions = new MediaSessions(pool, settings);
    const session = await sessions.getOrCreate('c2');
    const pending = session.createTransport('patient', 'send');
    session.close();
    await expect(pending).rejects.toSatisfy((e) => e instanceof AppError && e.code === 'consultation_closed');
    expect(live.size).toBe(0);
    await expect(session.createTransport('patient', 'recv')).rejects.toSatisfy((e) => e instanceof AppError && e.code === 'consultation_closed');
  });
});
