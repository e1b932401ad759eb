/**
 * Whether this end's connection is weak, judged once a second from the page's own statistics
 * (issue #20): packet loss on what arrives, the round trip, what the browser estimates it can
 * send (and whether it still sends every layer of the camera), and the frame rate of the pictures
 * that should be arriving. It flags a weak link as the loss and the queueing start, which is
 * before the picture freezes, and lets go only after a run of good seconds, so the notice does
 * not flicker.
 */
import type { RemoteStats } from './stats.js';

export type Quality = 'good' | 'weak';

/** Lost share of the packets that should have arrived since the last look. */
export const WEAK_LOSS = 0.05;
/** Seconds: a queue is building up somewhere on the way. */
export const WEAK_RTT = 0.4;
/** Bits/s: less than the low picture and the voice need to go out (README, "What a call needs"). */
export const WEAK_UPLOAD = 150_000;
/** Frames a second of a picture that is not muted, once it has shown this many frames. */
export const WEAK_FPS = 8;
export const SETTLED_FRAMES = 60;
/** Bad seconds in a row before it counts as weak, good seconds in a row before it stops. */
export const BAD_TO_WEAK = 2;
export const GOOD_TO_CLEAR = 8;

interface Counts { received: number; lost: number }

function counts(stats: RemoteStats): Counts {
  let received = 0;
  let lost = 0;
  for (const v of stats.video) {
    received += v.packetsReceived;
    lost += v.packetsLost;
  }
  for (const a of stats.audio) {
    received += a.packetsReceived;
    lost += a.packetsLost;
  }
  return { received, lost };
}

/** Whether one second's statistics look bad, given the counts of the second before. */
export function looksBad(stats: RemoteStats, before: Counts | undefined): boolean {
  const now = counts(stats);
  if (before) {
    const lost = now.lost - before.lost;
    const expected = now.received - before.received + lost;
    if (expected > 0 && lost / expected > WEAK_LOSS) return true;
  }
  if (stats.paths.some((p) => (p.roundTripTime ?? 0) > WEAK_RTT)) return true;
  // The SFU's send transport says nothing of our upload while our media goes direct (P2P): idle, its estimate sinks.
  const upload = stats.mediaPath === 'direct' ? undefined : stats.paths.find((p) => p.direction === 'send')?.availableOutgoingBitrate;
  if (upload !== undefined && upload < WEAK_UPLOAD) return true;
  // The browser dropped our camera's top layers for want of upload (it sees that before any estimate we read).
  if (stats.mediaPath !== 'direct' && stats.camera && stats.camera.layers < stats.camera.offered) return true;
  // Pictures that have been arriving for a few seconds but have all slowed down or stopped (one
  // that flows is enough: a shared screen that does not change sends few frames by design).
  // Only what the page plays: with P2P the idle path's pictures stand still by design.
  const pictures = stats.video.filter((v) => v.shown !== false && !v.producerPaused && v.framesDecoded >= SETTLED_FRAMES);
  return pictures.length > 0 && pictures.every((v) => v.framesPerSecond < WEAK_FPS);
}

export class QualityJudge {
  private before: Counts | undefined;
  private bad = 0;
  private good = 0;
  quality: Quality = 'good';

  /** Takes one second's statistics; answers the quality as it now stands. */
  judge(stats: RemoteStats): Quality {
    const bad = looksBad(stats, this.before);
    this.before = counts(stats);
    this.bad = bad ? this.bad + 1 : 0;
    this.good = bad ? 0 : this.good + 1;
    if (this.bad >= BAD_TO_WEAK) this.quality = 'weak';
    else if (this.good >= GOOD_TO_CLEAR) this.quality = 'good';
    return this.quality;
  }
}
