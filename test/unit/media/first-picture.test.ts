/**
 * The first-picture fall-back's rules on a stand-in consumer (the real worker and browsers are in
 * test/e2e/consultation.test.ts): when it lowers the preferred layer, when it gives it back, and
 * that it never keeps the lowered layer as anyone's preference.
 */
import { EventEmitter } from 'node:events';
import type { Consumer, ConsumerLayers } from 'mediasoup/node/lib/types.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FIRST_PICTURE_GRACE_MS, fallingBack, watchFirstPicture } from '../../../server/media/first-picture.js';

class StandInConsumer extends EventEmitter {
  kind = 'video';
  type = 'simulcast';
  closed = false;
  paused = false;
  producerPaused = false;
  currentLayers: ConsumerLayers | undefined;
  preferredLayers: ConsumerLayers | undefined = { spatialLayer: 1, temporalLayer: 2 };
  readonly observer = new EventEmitter();
  readonly asked: ConsumerLayers[] = [];

  async setPreferredLayers(layers: ConsumerLayers): Promise<void> {
    this.asked.push(layers);
    this.preferredLayers = layers;
  }

  /** mediasoup's 'layerschange': a picture goes out on these layers. */
  sends(layers: ConsumerLayers): void {
    this.currentLayers = layers;
    this.emit('layerschange', layers);
  }
}

const as = (c: StandInConsumer) => c as unknown as Consumer;

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('first picture of a resumed simulcast consumer', () => {
  it('leaves a consumer alone that sends its first picture in time', () => {
    const c = new StandInConsumer();
    const fellBack = vi.fn();
    watchFirstPicture(as(c), fellBack);
    c.sends({ spatialLayer: 1, temporalLayer: 2 });
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS * 2);
    expect(fellBack).not.toHaveBeenCalled();
    expect(c.asked).toEqual([]);
    expect(c.listenerCount('layerschange')).toBe(0);
  });

  it('prefers the lowest layer when no picture has gone out, and gives the preference back after one has', () => {
    const c = new StandInConsumer();
    const fellBack = vi.fn();
    watchFirstPicture(as(c), fellBack);
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
    expect(fellBack).toHaveBeenCalledTimes(1);
    expect(c.asked).toEqual([{ spatialLayer: 0 }]);
    // The weak-link guard, which also sets preferred layers, holds it there meanwhile.
    expect(fallingBack(as(c))).toBe(true);
    c.sends({ spatialLayer: 0, temporalLayer: 2 });
    expect(c.asked).toEqual([{ spatialLayer: 0 }, { spatialLayer: 1, temporalLayer: 2 }]);
    expect(fallingBack(as(c))).toBe(false);
    expect(c.listenerCount('layerschange')).toBe(0);
  });

  it('keeps the first preference when resumed again before any picture', () => {
    const c = new StandInConsumer();
    watchFirstPicture(as(c), () => undefined);
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
    watchFirstPicture(as(c), () => undefined);
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
    c.sends({ spatialLayer: 0, temporalLayer: 2 });
    expect(c.preferredLayers).toEqual({ spatialLayer: 1, temporalLayer: 2 });
  });

  it('does nothing while either side is paused (no picture is expected then)', () => {
    for (const pause of ['paused', 'producerPaused'] as const) {
      const c = new StandInConsumer();
      const fellBack = vi.fn();
      watchFirstPicture(as(c), fellBack);
      c[pause] = true;
      vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
      expect(fellBack).not.toHaveBeenCalled();
      expect(c.asked).toEqual([]);
      expect(c.listenerCount('layerschange')).toBe(0);
    }
  });

  it('ignores audio, single-stream video and a consumer already sending', () => {
    const audio = Object.assign(new StandInConsumer(), { kind: 'audio' });
    const simple = Object.assign(new StandInConsumer(), { type: 'simple' });
    const sending = Object.assign(new StandInConsumer(), { currentLayers: { spatialLayer: 1, temporalLayer: 2 } });
    const fellBack = vi.fn();
    for (const c of [audio, simple, sending]) watchFirstPicture(as(c), fellBack);
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
    expect(fellBack).not.toHaveBeenCalled();
  });

  it('stops watching a consumer that closes', () => {
    const c = new StandInConsumer();
    const fellBack = vi.fn();
    watchFirstPicture(as(c), fellBack);
    c.closed = true;
    c.observer.emit('close');
    vi.advanceTimersByTime(FIRST_PICTURE_GRACE_MS);
    expect(fellBack).not.toHaveBeenCalled();
    expect(c.listenerCount('layerschange')).toBe(0);
  });
});
