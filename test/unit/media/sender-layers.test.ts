/** What each sender says it sends, and who hears of it (server/media/layer-guard.ts SenderLayers). */
import { describe, expect, it } from 'vitest';
import { SenderLayers } from '../../../server/media/layer-guard.js';

describe('the layers each sender says it sends', () => {
  it('tells the guards of that producer of each change, once, until they stop watching or it goes', () => {
    const senders = new SenderLayers();
    let looks = 0;
    let others = 0;
    const stop = senders.watch('camera', () => looks++);
    senders.watch('screen', () => others++);
    expect(senders.topOf('camera')).toBeUndefined();
    senders.set('camera', 0);
    senders.set('camera', 0);
    expect(senders.topOf('camera')).toBe(0);
    expect(looks).toBe(1);
    senders.set('camera', 1);
    expect(looks).toBe(2);
    expect(others).toBe(0);
    stop();
    senders.set('camera', 0);
    expect(looks).toBe(2);
    senders.forget('camera');
    expect(senders.topOf('camera')).toBeUndefined();
  });
});
