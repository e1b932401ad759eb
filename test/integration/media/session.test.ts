/**
 * One MediaSession on a real mediasoup worker: everything refuses once it has closed, closing
 * twice is closing once, and a router that goes away under it (its worker died) closes the
 * session with `router_lost`, after which the consultation gets a fresh one.
 */
import * as mediasoup from 'mediasoup';
import type { Router, Worker } from 'mediasoup/node/lib/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../server/errors.js';
import { createLogger } from '../../../server/log.js';
import { WorkerPool } from '../../../server/media/pool.js';
import type { SessionCloseReason } from '../../../server/media/session.js';
import { MediaSessions } from '../../../server/media/sessions.js';

let pool: WorkerPool;
const routers: Router[] = [];
const onWorker = (w: Worker) => w.observer.on('newrouter', (r: Router) => routers.push(r));

beforeAll(async () => {
  mediasoup.observer.on('newworker', onWorker);
  pool = await WorkerPool.create({ size: 1, rtcMinPort: 47000, rtcMaxPort: 47999, logger: createLogger('silent') });
});
afterAll(async () => {
  mediasoup.observer.off('newworker', onWorker);
  await pool?.close();
});

const settings = { listenInfos: [{ protocol: 'udp' as const, ip: '127.0.0.1' }] };
const closedCode = (e: unknown) => e instanceof AppError && e.code === 'consultation_closed';

async function sessionWithRouter(sessions: MediaSessions, id: string) {
  const session = await sessions.getOrCreate(id);
  const closes: SessionCloseReason[] = [];
  session.on('closed', (reason) => closes.push(reason));
  const transport = await session.createTransport('patient', 'send');
  const router = routers.at(-1)!;
  return { session, closes, transport, router };
}

describe('media session', () => {
  it('refuses every call once closed, and leaves nothing open', async () => {
    const sessions = new MediaSessions(pool, settings);
    const { session, transport, router } = await sessionWithRouter(sessions, 'after-close');
    session.close();
    expect(router.closed).toBe(true);
    expect(session.isClosed).toBe(true);
    await expect(session.createTransport('patient', 'recv')).rejects.toSatisfy(closedCode);
    await expect(session.connectTransport('patient', transport.id, {})).rejects.toSatisfy(closedCode);
    await expect(session.restartIce('patient', transport.id)).rejects.toSatisfy(closedCode);
    await expect(session.produce('patient', transport.id, 'audio', {}, 'mic')).rejects.toSatisfy(closedCode);
    await expect(session.consume('clinician', 'p1', {})).rejects.toSatisfy(closedCode);
    await expect(session.pauseProducer('patient', 'p1', true)).rejects.toSatisfy(closedCode);
    await expect(session.resumeConsumer('patient', 'c1')).rejects.toSatisfy(closedCode);
    expect(() => session.closeProducer('patient', 'p1')).toThrow(AppError);
    expect(session.producersOf('patient')).toEqual([]);
    session.closePeer('patient'); // harmless
    expect(sessions.get('after-close')).toBeUndefined();
  });

  it('closes once when closed twice', async () => {
    const sessions = new MediaSessions(pool, settings);
    const { session, closes } = await sessionWithRouter(sessions, 'twice');
    session.close();
    session.close();
    sessions.close('twice');
    expect(closes).toEqual(['ended']);
  });

  it('closes with router_lost when its router goes away, and the consultation then gets a fresh session', async () => {
    const sessions = new MediaSessions(pool, settings);
    const { session, closes, router } = await sessionWithRouter(sessions, 'lost');
    router.close(); // what a dying worker does to its routers
    expect(closes).toEqual(['router_lost']);
    await expect(session.createTransport('patient', 'send')).rejects.toSatisfy(closedCode);
    session.close();
    expect(closes).toEqual(['router_lost']);

    const fresh = await sessions.getOrCreate('lost');
    expect(fresh).not.toBe(session);
    await fresh.createTransport('patient', 'send');
    expect(routers.at(-1)).not.toBe(router);
    expect(routers.at(-1)?.closed).toBe(false);
    fresh.close();
  });
});
