/**
 * Which simulcast layer a receiver gets on a weak link (issue #20: degrade, never freeze).
 *
 * mediasoup hands a transport's whole estimate to video and may switch up again as soon as the
 * estimate overshoots (it did, at 300 kbit/s towards a phone: 640 wide again while the limit held,
 * and the picture froze). This policy keeps room for the voice first, holds a receiver on the
 * highest layer that fits beside it, and steps one layer up at most once per UP_EVERY_MS. When not
 * even the lowest layer fits, video pauses (audio goes on) and resumes by itself once it fits.
 */

/** Kept for the voice: Opus with FEC as mediasoup measures it (about 35 kbit/s), and some room. */
export const AUDIO_RESERVE_BPS = 40_000;
/** A layer fits when its measured bitrate times this, plus the reserve, is under the estimate. */
export const LAYER_MARGIN = 1.15;
/** At most one step up per this long (a step up that does not fit is undone a look later). */
export const UP_EVERY_MS = 10_000;
/**
 * A higher layer must fit this long before a step up: behind a shaped link the estimate
 * overshoots for seconds at a time (about 1 Mbit/s for 4 s measured on a 300 kbit/s link:
 * probes that went through the shaper's burst).
 */
export const UP_SUSTAIN_MS = 8_000;
/** After a step up, one look is skipped: the estimate has not seen the new layer yet. */
export const SETTLE_MS = 1_000;
/**
 * Video pauses when the estimate stays under the lowest layer's own bitrate this long. Not
 * sooner, nor counting the voice's reserve: as a limit begins the estimate dips under what the
 * link carries (145 kbit/s measured on a 300 kbit/s link, where that layer and the voice flow).
 */
export const PAUSE_AFTER_MS = 3_000;
/**
 * On the lowest layer, a score this low also means it does not fit: the estimate lags behind a
 * link that drops what it cannot carry (70 kbit/s estimated for 20 s on a 60 kbit/s link).
 */
export const LOSSY_SCORE = 5;

/** -1: video paused for want of bandwidth; otherwise the highest spatial layer allowed. */
export interface LayerHold {
  layer: number;
  /** When the layer last changed, either way. */
  changedAt: number;
  /** When the last step up was taken. */
  upAt: number;
  /** Since when not even the lowest layer has fitted (while still sending it). */
  shortSince?: number;
  /** Since when a higher layer has fitted. */
  upSince?: number;
}

export interface LayerInput {
  /** The transport's estimate of what it can send to this receiver, bits/s. */
  available: number;
  /** The producer's measured bitrate per spatial layer, lowest first (0: not being sent). */
  layerBps: number[];
  /** mediasoup's score of the stream to this receiver (10: no loss reported, 0: nothing arrives). */
  score: number;
  now: number;
}

export const openHold = (top: number, now: number): LayerHold => ({ layer: top, changedAt: now, upAt: now - UP_EVERY_MS });

/** The highest layer that fits beside the voice, or -1. */
export function fittingLayer(available: number, layerBps: number[]): number {
  let best = -1;
  layerBps.forEach((bps, i) => {
    if (bps > 0 && bps * LAYER_MARGIN + AUDIO_RESERVE_BPS <= available) best = i;
  });
  return best;
}

/**
 * The next hold: down at once to what fits beside the voice (the lowest layer stays while it
 * alone fits); paused when not even that fits for PAUSE_AFTER_MS; up one step when the estimate
 * has said it fits for UP_SUSTAIN_MS (mediasoup probes upwards by itself, and a voice-only link's
 * estimate still grows), never within UP_EVERY_MS of the last change.
 */
export function nextHold(hold: LayerHold, { available, layerBps, score, now }: LayerInput): LayerHold {
  const top = layerBps.length - 1;
  // Just stepped up: the estimate has not caught up yet.
  if (now - hold.upAt < SETTLE_MS) return hold;
  const fits = fittingLayer(available, layerBps);
  // A layer the sender does not send (yet) is no reason to step down.
  const sent = layerBps.reduce((h, bps, i) => (bps > 0 ? i : h), -1);
  const lowest = layerBps[0] ?? 0;
  const starved = lowest > 0 && (available < lowest || (hold.layer === 0 && score <= LOSSY_SCORE));
  const since = hold.layer >= 0 && starved ? { shortSince: hold.shortSince ?? now } : {};
  if (since.shortSince !== undefined && now - since.shortSince >= PAUSE_AFTER_MS) return { layer: -1, changedAt: now, upAt: hold.upAt };
  const floor = Math.max(fits, 0);
  if (hold.layer >= 0 && floor < Math.min(hold.layer, sent)) return { layer: floor, changedAt: now, upAt: hold.upAt, ...since };
  const higher = hold.layer < top && fits > hold.layer ? { upSince: hold.upSince ?? now } : {};
  if (higher.upSince !== undefined && now - higher.upSince >= UP_SUSTAIN_MS && now - hold.changedAt >= UP_EVERY_MS) {
    return { layer: hold.layer + 1, changedAt: now, upAt: now };
  }
  return { layer: hold.layer, changedAt: hold.changedAt, upAt: hold.upAt, ...since, ...higher };
}
