/**
 * Applies the weak-link layer policy (layers.ts) to one simulcast video consumer, once a second,
 * from its transport's estimate and its producer's measured layer bitrates.
 */
import type { Consumer, Producer, WebRtcTransport } from 'mediasoup/node/lib/types.js';
import { type LayerHold, nextHold, openHold } from './layers.js';

export const GUARD_EVERY_MS = 1000;

/** `onPaused(true)`: not even the lowest layer fits, video is paused; `false`: it flows again. */
export function guardLayers(consumer: Consumer, producer: Producer, transport: WebRtcTransport, onPaused: (paused: boolean) => void): void {
  if (consumer.kind !== 'video' || consumer.type !== 'simulcast') return;
  const rids = producer.rtpParameters.encodings?.map((e) => e.rid) ?? [];
  let hold: LayerHold = openHold(rids.length - 1, Date.now());
  let pausedByUs = false;
  let busy = false;

  const tick = async () => {
    // Not resumed yet by its receiver, or muted by its sender: nothing to judge.
    if ((consumer.paused && !pausedByUs) || consumer.producerPaused) return;
    const [t] = await transport.getStats();
    const available = t?.availableOutgoingBitrate;
    if (!available) return;
    const byRid = new Map((await producer.getStats()).map((s) => [s.rid, s.bitrate]));
    hold = nextHold(hold, { available, layerBps: rids.map((rid) => byRid.get(rid) ?? 0), score: consumer.score.score, now: Date.now() });
    if (consumer.closed) return;
    if (hold.layer < 0) {
      if (pausedByUs) return;
      pausedByUs = true;
      await consumer.pause();
      onPaused(true);
      return;
    }
    if (consumer.preferredLayers?.spatialLayer !== hold.layer) await consumer.setPreferredLayers({ spatialLayer: hold.layer });
    if (pausedByUs) {
      pausedByUs = false;
      await consumer.resume();
      onPaused(false);
    }
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    tick().catch(() => undefined).finally(() => {
      busy = false;
    });
  }, GUARD_EVERY_MS);
  timer.unref();
  consumer.observer.once('close', () => {
    clearInterval(timer);
    // Its receiver or sender left, or the sender stopped its camera: nothing is paused any more.
    if (pausedByUs) onPaused(false);
  });
}
