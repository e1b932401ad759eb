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
 * A step up undone within UP_EVERY_MS doubles the wait before the next, up to this: each one that
 * does not fit costs the receiver a top-layer key frame on a full link (a second of stalled
 * picture at 300 kbit/s), and a shaped link's estimate overshoots again and again.
 */
export const UP_EVERY_MAX_MS = 40_000;
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
/**
 * ... not counted this soon after a step down: the old layer's packets still in the link's queue
 * are lost as it drains (score 0 for 2-3 s measured, then the low layer flowed at 15 frames/s).
 */
export const LOSSY_SETTLE_MS = 4_000;

/**
 * The estimate this far under its peak of the last 10 s: it has seen a queue filling on the way to
 * the receiver (it lowers itself only on that, or on heavy loss), but it comes down in steps, and
 * took 2.5-3 s to fall under the top layer at 300 kbit/s towards a phone, by which time the link
 * dropped packets and the picture froze. So a falling estimate steps down at once when it is near
 * the layer (FALLING_NEAR times what the layer needs) or when the receiver's round trip shows the
 * queue (QUEUE_MS over its least). Not the round trip alone: it also grows with a queue on the
 * receiver's own upload (its reports wait there), which the estimate, timed on arrival at the
 * receiver, does not see (300-435 ms more with a phone's upload limited to 300 kbit/s, and the
 * estimate towards it stayed put). Nor the nearness while packets are being lost (over
 * NEAR_LOSS_MAX in the window): then the estimate also falls for random loss, slowly (1215 to
 * 973 kbit/s over 9 s at 5% loss, with 500 kbit/s flowing well), and the full picture is kept.
 */
export const ESTIMATE_FALL = 0.9;
export const FALLING_NEAR = 2;
export const NEAR_LOSS_MAX = 0.02;
export const QUEUE_MS = 200;

/** -1: video paused for want of bandwidth; otherwise the highest spatial layer allowed. */
export interface LayerHold {
  layer: number;
  /** When the layer last changed, either way. */
  changedAt: number;
  /** When the last step up was taken. */
  upAt: number;
  /** The wait before the next step up: UP_EVERY_MS, doubled by each step up that did not fit. */
  upEveryMs: number;
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
  /** The receiver's round trip over the least seen lately, ms (0 when unknown). */
  queueMs?: number;
  /** The highest estimate seen lately, bits/s (as `available` when unknown). */
  availablePeak?: number;
  /** The highest share of packets the receiver reported lost lately, 0-1. */
  recentLoss?: number;
  now: number;
}

export const openHold = (top: number, now: number): LayerHold => ({ layer: top, changedAt: now, upAt: now - UP_EVERY_MS, upEveryMs: UP_EVERY_MS });

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
 * estimate still grows), never within `upEveryMs` of the last change; one step down at once when
 * the receiver's round trip shows a queue filling.
 */
export function nextHold(hold: LayerHold, { available, layerBps, score, queueMs = 0, availablePeak = available, recentLoss = 0, now }: LayerInput): LayerHold {
  const top = layerBps.length - 1;
  // Just stepped up: the estimate has not caught up yet.
  if (now - hold.upAt < SETTLE_MS) return hold;
  const fits = fittingLayer(available, layerBps);
  // A layer the sender does not send (yet) is no reason to step down.
  const sent = layerBps.reduce((h, bps, i) => (bps > 0 ? i : h), -1);
  const lowest = layerBps[0] ?? 0;
  const lossy = hold.layer === 0 && score <= LOSSY_SCORE && now - hold.changedAt >= LOSSY_SETTLE_MS;
  const starved = lowest > 0 && (available < lowest || lossy);
  const since = hold.layer >= 0 && starved ? { shortSince: hold.shortSince ?? now } : {};
  const { upAt, upEveryMs } = hold;
  // Going down: a step up that did not last doubles the wait for the next; one that lasted resets it.
  const down = { changedAt: now, upAt, upEveryMs: now - upAt < UP_EVERY_MS ? Math.min(upEveryMs * 2, UP_EVERY_MAX_MS) : UP_EVERY_MS };
  if (since.shortSince !== undefined && now - since.shortSince >= PAUSE_AFTER_MS) return { layer: -1, ...down };
  // A queue filling towards the receiver: one step down now, though the estimate is still over the
  // layer. The round trip is renewed about once a second, so one look after a step down is not
  // taken as a new sign (after a step up, SETTLE_MS has passed).
  const need = (layerBps[hold.layer] ?? 0) * LAYER_MARGIN + AUDIO_RESERVE_BPS;
  const falling = available <= availablePeak * ESTIMATE_FALL;
  const near = available < need * FALLING_NEAR && recentLoss <= NEAR_LOSS_MAX;
  const queued = falling && (queueMs >= QUEUE_MS || near) && (hold.changedAt === upAt || now - hold.changedAt >= SETTLE_MS * 2);
  const floor = Math.max(queued ? Math.min(fits, hold.layer - 1) : fits, 0);
  if (hold.layer >= 0 && floor < Math.min(hold.layer, sent)) return { layer: floor, ...down, ...since };
  const higher = hold.layer < top && fits > hold.layer ? { upSince: hold.upSince ?? now } : {};
  if (higher.upSince !== undefined && now - higher.upSince >= UP_SUSTAIN_MS && now - hold.changedAt >= upEveryMs) {
    return { layer: hold.layer + 1, changedAt: now, upAt: now, upEveryMs };
  }
  return { layer: hold.layer, changedAt: hold.changedAt, upAt, upEveryMs, ...since, ...higher };
}
