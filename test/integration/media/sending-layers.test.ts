/**
 * The sender's page says its browser stopped its camera's top simulcast layer (short of upload),
 * on a real mediasoup worker (issue #20). That its consumers then get the layer that still comes
 * needs RTP flowing: test/e2e/poor-network.test.ts measures it from a phone with its upload limited.
 */
import * as mediasoup from 'mediasoup';
import type { Consumer, Worker } from 'mediasoup/node/lib/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../server/errors.js';
import { createLogger } from '../../../server/log.js';
import { WorkerPool } from '../../../server/media/pool.js';
import { MediaSessions } from '../../../server/media/sessions.js';

let pool: WorkerPool;
const consumers: Consumer[] = [];
const onWorker = (w: Worker) => w.observer.on('newrouter', (r) => r.observer.on('newtransport', (t) => t.observer.on('newconsumer', (c) => consumers.push(c))));

beforeAll(async () => {
  mediasoup.observer.on('newworker', onWorker);
  pool = await WorkerPool.create({ size: 1, rtcMinPort: 45000, rtcMaxPort: 45999, logger: createLogger('silent') });
});
afterAll(async () => {
  mediasoup.observer.off('newworker', onWorker);
  await pool?.close();
});

/** A camera as Chromium offers it: VP8, two simulcast layers by rid. */
const camera = {
  mid: '0',
  codecs: [{
    mimeType: 'video/VP8', payloadType: 96, clockRate: 90000,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }, { type: 'transport-cc' }],
  }],
  headerExtensions: [
    { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
    { uri: 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id', id: 2 },
    { uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3 },
  ],
  encodings: [{ rid: 'r0' }, { rid: 'r1' }],
  rtcp: { cname: 'camera' },
};

const opus = {
  mid: '1',
  codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }],
  headerExtensions: [], encodings: [{ ssrc: 1111 }], rtcp: { cname: 'camera' },
};

describe('the camera layers its sender says it sends', () => {
  it('are said by the camera\'s owner only; a stream of one layer has nothing to say', async () => {
    const sessions = new MediaSessions(pool, { listenInfos: [{ protocol: 'udp' as const, ip: '127.0.0.1' }] });
    const session = await sessions.getOrCreate('sending-layers');
    const send = await session.createTransport('patient', 'send');
    const { producerId } = await session.produce('patient', send.id, 'video', camera, 'camera');
    const mic = await session.produce('patient', send.id, 'audio', opus, 'mic');
    await session.createTransport('clinician', 'recv');
    const options = await session.consume('clinician', producerId, session.rtpCapabilities as unknown as Record<string, unknown>);
    expect(consumers.find((c) => c.id === options.id)?.type).toBe('simulcast');

    // Someone else's camera: no such stream.
    expect(() => session.sendingLayers('clinician', producerId, 1)).toThrow(AppError);
    // A stream with one layer: nothing to say, and no error.
    expect(() => session.sendingLayers('patient', mic.producerId, 1)).not.toThrow();
    session.sendingLayers('patient', producerId, 1);
    session.close();
  });
});
