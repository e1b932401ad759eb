/**
 * Tells the server how many of the camera's simulcast layers the browser is really encoding
 * (issue #20). Short of upload, the browser stops its top layer at once, but what is already in
 * its send queue keeps arriving for 2-3 s, and the SFU would keep the other side waiting on that
 * layer, with a frozen picture, all that time. Told within half a second, it switches them to a
 * layer that still comes.
 */
import type { types } from 'mediasoup-client';

export const LOOK_EVERY_MS = 250;
/**
 * A layer counts as sent, or as stopped, once the layer under it has encoded this many frames
 * since the last look (a camera at 15 frames/s: 3 or 4 a look): one skipped frame is not a stop.
 */
export const FRAMES_TO_JUDGE = 2;
/**
 * Looks in a row (2 s) a stopped layer must be sent again before it counts as back: short of
 * upload, Chromium brings its top layer back for half a second and stops it again, and each
 * switch up asks the phone for key frames (on every layer, with one encoder) that its weak upload
 * then carries instead of pictures (3 of them, and 0-2 frames a second for a second, measured).
 */
export const BACK_AFTER_LOOKS = 8;

/** Frames encoded so far per encoding, in the producer's order (undefined: no figure). */
async function framesPerEncoding(producer: types.Producer): Promise<(number | undefined)[]> {
  const byRid = new Map<string, number>();
  (await producer.getStats()).forEach((s: { type?: string; rid?: string; framesEncoded?: number }) => {
    if (s.type === 'outbound-rtp' && s.rid !== undefined && s.framesEncoded !== undefined) byRid.set(s.rid, s.framesEncoded);
  });
  return (producer.rtpParameters.encodings ?? []).map((e) => (e.rid === undefined ? undefined : byRid.get(e.rid)));
}

/**
 * How many layers, bottom up, encoded frames since the last look; undefined when the lowest did
 * not encode enough to judge by (camera off, the picture going over the direct path, a slow
 * camera): nothing to say then.
 */
export function layersSent(before: (number | undefined)[], now: (number | undefined)[]): number | undefined {
  const encoded = now.map((n, i) => {
    const b = before[i];
    return n === undefined || b === undefined ? undefined : n - b;
  });
  if ((encoded[0] ?? 0) < FRAMES_TO_JUDGE) return undefined;
  let layers = 1;
  while (layers < encoded.length && (encoded[layers] ?? 0) > 0) layers++;
  return layers;
}

/** What to tell, look by look: a stop at the first look that shows it, a layer back only after BACK_AFTER_LOOKS. */
export class SentLayersJudge {
  private upLooks = 0;

  constructor(private told: number) {}

  /** The count to tell the server after this look, or undefined: nothing new. */
  look(layers: number | undefined): number | undefined {
    if (layers === undefined || layers === this.told) {
      this.upLooks = 0;
      return undefined;
    }
    if (layers > this.told && ++this.upLooks < BACK_AFTER_LOOKS) return undefined;
    this.upLooks = 0;
    this.told = layers;
    return layers;
  }
}

/** Watches a simulcast camera producer until it closes; `tell` hears each change. */
export function watchSentLayers(producer: types.Producer, tell: (layers: number, offered: number) => void): void {
  const offered = producer.rtpParameters.encodings?.length ?? 1;
  if (offered < 2) return;
  const judge = new SentLayersJudge(offered);
  let before: (number | undefined)[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (producer.closed) {
      clearInterval(timer);
      return;
    }
    if (busy) return;
    busy = true;
    framesPerEncoding(producer).then((now) => {
      const layers = judge.look(layersSent(before, now));
      before = now;
      if (layers !== undefined) tell(layers, offered);
    }).catch(() => undefined).finally(() => {
      busy = false;
    });
  }, LOOK_EVERY_MS);
}
