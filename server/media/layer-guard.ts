/**
 * Applies the weak-link layer policy (layers.ts) to one simulcast video consumer, twice a second,
 * from its transport's estimate, its producer's measured layer bitrates and its receiver's round
 * trip; and at once when the sender says its browser stopped (or started again) sending a layer.
 */
import type { Consumer, Producer, WebRtcTransport } from 'mediasoup/node/lib/types.js';
import type { VideoFit } from '../../signalling/vocabulary.js';
import { fallingBack } from './first-picture.js';
import { type LayerHold, nextHold, openHold } from './layers.js';

export const GUARD_EVERY_MS = 500;
/**
 * How far back a guard looks: the least round trip of this window is the receiver's own, without
 * a queue; its highest estimate, the peak; its highest loss, the recent loss.
 */
export const LOOK_BACK_MS = 10_000;

/**
 * The highest simulcast layer each sender's browser is encoding, as its page says (the
 * `sendingLayers` event), with the guards of its consumers to tell when it changes.
 *
 * A sender short of upload stops its top layer at once, but the packets already in its queue
 * keep arriving for 2-3 s more, so the server itself sees the layer die only then (a frozen
 * picture at the receiver all that time, measured at 300 kbit/s from a phone). Its page knows
 * within half a second.
 */
export class SenderLayers {
  private readonly tops = new Map<string, number>();
  private readonly looks = new Map<string, Set<() => void>>();

  /** The highest layer the sender encodes, or undefined: it has not said (all it offered). */
  topOf(producerId: string): number | undefined {
    return this.tops.get(producerId);
  }

  set(producerId: string, top: number): void {
    if (this.tops.get(producerId) === top) return;
    this.tops.set(producerId, top);
    for (const look of this.looks.get(producerId) ?? []) look();
  }

  /** Calls `look` whenever the producer's top layer changes; answers how to stop. */
  watch(producerId: string, look: () => void): () => void {
    const set = this.looks.get(producerId) ?? new Set();
    this.looks.set(producerId, set);
    set.add(look);
    return () => set.delete(look);
  }

  forget(producerId: string): void {
    this.tops.delete(producerId);
    this.looks.delete(producerId);
  }
}

/** The figures of the last LOOK_BACK_MS. */
class Window {
  private readonly items: { at: number; value: number }[] = [];

  add(at: number, value: number): this {
    while ((this.items[0]?.at ?? at) < at - LOOK_BACK_MS) this.items.shift();
    this.items.push({ at, value });
    return this;
  }

  min(): number {
    return Math.min(...this.items.map((i) => i.value));
  }

  max(): number {
    return Math.max(...this.items.map((i) => i.value));
  }
}

/** `onFit` hears each change: a smaller layer for want of bandwidth, video paused, or all of it again. */
export function guardLayers(
  consumer: Consumer, producer: Producer, transport: WebRtcTransport, senders: SenderLayers, onFit: (fit: VideoFit) => void,
): void {
  if (consumer.kind !== 'video' || consumer.type !== 'simulcast') return;
  const rids = producer.rtpParameters.encodings?.map((e) => e.rid) ?? [];
  let hold: LayerHold = openHold(rids.length - 1, Date.now());
  let pausedByUs = false;
  let fit: VideoFit = 'full';
  const tell = (now: VideoFit) => {
    if (now === fit) return;
    fit = now;
    onFit(now);
  };
  const rtts = new Window();
  const estimates = new Window();
  const losses = new Window();

  const tick = async () => {
    // Not resumed yet by its receiver, or muted by its sender: nothing to judge.
    if ((consumer.paused && !pausedByUs) || consumer.producerPaused) return;
    const [t] = await transport.getStats();
    const available = t?.availableOutgoingBitrate;
    if (!available) return;
    const byRid = new Map((await producer.getStats()).map((s) => [s.rid, s.bitrate]));
    const sent = (await consumer.getStats()).find((s) => s.type === 'outbound-rtp');
    const now = Date.now();
    const before = hold.layer;
    hold = nextHold(hold, {
      available,
      availablePeak: estimates.add(now, available).max(),
      layerBps: rids.map((rid) => byRid.get(rid) ?? 0),
      score: consumer.score.score,
      queueMs: sent?.roundTripTime === undefined ? 0 : sent.roundTripTime - rtts.add(now, sent.roundTripTime).min(),
      // RTCP's fraction lost is out of 256.
      recentLoss: losses.add(now, (sent?.fractionLost ?? 0) / 256).max(),
      now,
    });
    if (consumer.closed) return;
    if (hold.layer < 0) {
      if (pausedByUs) return;
      pausedByUs = true;
      await consumer.pause();
      tell('paused');
      return;
    }
    // The sender's word on what it sends, and the first picture's fall-back, cap the policy's layer.
    const layer = Math.min(hold.layer, fallingBack(consumer) ? 0 : senders.topOf(producer.id) ?? hold.layer);
    if (consumer.preferredLayers?.spatialLayer !== layer) {
      // A step down on a full link: a pause empties the consumer's retransmission buffer, or the
      // receiver's requests for the old layer's lost packets would fill the link for seconds
      // (460 kbit/s of resends measured at 300 kbit/s) and hold back the low layer's key frame.
      const flush = !pausedByUs && hold.layer < before;
      if (flush) await consumer.pause();
      await consumer.setPreferredLayers({ spatialLayer: layer });
      if (flush) await consumer.resume();
    }
    if (pausedByUs) {
      pausedByUs = false;
      await consumer.resume();
    }
    tell(hold.layer < rids.length - 1 ? 'reduced' : 'full');
  };

  // One look at a time; a look asked for during one runs right after it.
  let busy = false;
  let again = false;
  const look = () => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    tick().catch(() => undefined).finally(() => {
      busy = false;
      if (again && !consumer.closed) {
        again = false;
        look();
      }
    });
  };
  const timer = setInterval(() => {
    if (!busy) look();
  }, GUARD_EVERY_MS);
  timer.unref();
  const unwatch = senders.watch(producer.id, look);
  consumer.observer.once('close', () => {
    clearInterval(timer);
    unwatch();
    // Its receiver or sender left, or the sender stopped its camera: nothing is held back any more.
    tell('full');
  });
}
