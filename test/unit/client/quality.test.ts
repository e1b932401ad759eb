/** Judging this end's connection from its own statistics (client/call/quality.ts). */
import { describe, expect, it } from 'vitest';
import { BAD_TO_WEAK, GOOD_TO_CLEAR, QualityJudge, looksBad } from '../../../client/call/quality.js';
import { type RemoteStats, noStats } from '../../../client/call/stats.js';

function stats(o: { received?: number; lost?: number; rtt?: number; upload?: number; fps?: number; frames?: number; paused?: boolean } = {}): RemoteStats {
  const s = noStats();
  s.paths.push({ direction: 'send', localType: 'host', roundTripTime: o.rtt ?? 0.02, availableOutgoingBitrate: o.upload ?? 1_000_000 });
  s.video.push({
    participantId: 'p', framesDecoded: o.frames ?? 1000, frameWidth: 640, frameHeight: 480, packetsLost: o.lost ?? 0,
    packetsReceived: o.received ?? 0, framesPerSecond: o.fps ?? 15, producerPaused: o.paused ?? false,
  });
  return s;
}

describe('the connection quality an end judges from its own statistics', () => {
  it('calls a second bad for loss over 5%, a long round trip, a small upload or a slow picture', () => {
    const before = { received: 1000, lost: 0 };
    expect(looksBad(stats({ received: 1100, lost: 2 }), before)).toBe(false);
    expect(looksBad(stats({ received: 1090, lost: 10 }), before)).toBe(true);
    expect(looksBad(stats({ rtt: 0.6 }), undefined)).toBe(true);
    expect(looksBad(stats({ upload: 100_000 }), undefined)).toBe(true);
    expect(looksBad(stats({ fps: 3 }), undefined)).toBe(true);
  });

  it('calls a second bad when the browser has dropped our camera\'s top layer for want of upload, unless the camera goes direct', () => {
    const short = { ...stats(), camera: { layers: 1, offered: 2 } };
    expect(looksBad(short, undefined)).toBe(true);
    expect(looksBad({ ...stats(), camera: { layers: 2, offered: 2 } }, undefined)).toBe(false);
    expect(looksBad({ ...short, mediaPath: 'direct' }, undefined)).toBe(false);
  });

  it('does not count a muted picture, or one only starting, as slow', () => {
    expect(looksBad(stats({ fps: 0, paused: true }), undefined)).toBe(false);
    expect(looksBad(stats({ fps: 2, frames: 10 }), undefined)).toBe(false);
  });

  it('says weak after two bad seconds in a row and clears only after a run of good ones', () => {
    const judge = new QualityJudge();
    expect(judge.judge(stats({ rtt: 0.6 }))).toBe('good');
    for (let i = 1; i < BAD_TO_WEAK; i++) judge.judge(stats({ rtt: 0.6 }));
    expect(judge.quality).toBe('weak');
    for (let i = 1; i < GOOD_TO_CLEAR; i++) expect(judge.judge(stats())).toBe('weak');
    expect(judge.judge(stats())).toBe('good');
  });
});
