/** The weak-link layer policy (server/media/layers.ts), fed the figures measured behind a shaped link. */
import { describe, expect, it } from 'vitest';
import {
  type LayerHold, type LayerInput, PAUSE_AFTER_MS, UP_EVERY_MS, UP_SUSTAIN_MS, fittingLayer, nextHold, openHold,
} from '../../../server/media/layers.js';

/** The two layers as sent: 320x240 at about 62 kbit/s, 640x480 at about 420 kbit/s. */
const layers = [62_000, 420_000];

/** Runs the policy once a second over `estimates`, from `hold` at time `start`. */
function run(hold: LayerHold, estimates: number[], opts: Partial<LayerInput> = {}, start = 0): LayerHold[] {
  const out: LayerHold[] = [];
  estimates.forEach((available, i) => {
    hold = nextHold(hold, { available, layerBps: layers, score: 10, now: start + (i + 1) * 1000, ...opts });
    out.push(hold);
  });
  return out;
}

describe('the layer a receiver on a weak link gets', () => {
  it('keeps room for the voice: a layer fits only with the reserve beside it', () => {
    expect(fittingLayer(1_000_000, layers)).toBe(1);
    expect(fittingLayer(300_000, layers)).toBe(0);
    expect(fittingLayer(100_000, layers)).toBe(-1);
    // A layer the sender does not send never fits.
    expect(fittingLayer(1_000_000, [62_000, 0])).toBe(0);
  });

  it('steps down at once when the estimate falls', () => {
    const [first] = run(openHold(1, -UP_EVERY_MS), [250_000]);
    expect(first?.layer).toBe(0);
  });

  it('does not step up on an overshoot shorter than the sustain time, and at most once per 10 s', () => {
    const down = run(openHold(1, 0), [250_000])[0] as LayerHold;
    const overshoot = run(down, [240_000, 240_000, ...Array(UP_SUSTAIN_MS / 1000 - 1).fill(1_000_000), 240_000, 240_000], {}, 1000);
    expect(overshoot.every((h) => h.layer === 0)).toBe(true);
    const sustained = run(down, Array(30).fill(1_000_000), {}, 1000);
    const ups = sustained.filter((h, i) => h.layer > (i === 0 ? down.layer : (sustained[i - 1] as LayerHold).layer));
    expect(ups).toHaveLength(1);
    expect(sustained.findIndex((h) => h.layer === 1) + 1).toBeGreaterThanOrEqual(UP_SUSTAIN_MS / 1000);
  });

  it('pauses when not even the lowest layer fits for a while, and resumes by itself once it does', () => {
    const start = run(openHold(1, 0), [250_000])[0] as LayerHold;
    const starved = run(start, Array(PAUSE_AFTER_MS / 1000 + 1).fill(40_000), {}, 1000);
    expect(starved[0]?.layer).toBe(0);
    expect(starved.at(-1)?.layer).toBe(-1);
    const back = run(starved.at(-1) as LayerHold, Array(UP_EVERY_MS / 1000 + 2).fill(300_000), {}, 10_000);
    expect(back.at(-1)?.layer).toBe(0);
  });

  it('pauses on the lowest layer when its stream loses heavily, though the estimate lags', () => {
    const start = run(openHold(1, 0), [250_000])[0] as LayerHold;
    const lossy = run(start, Array(PAUSE_AFTER_MS / 1000 + 1).fill(70_000), { score: 3 }, 1000);
    expect(lossy.at(-1)?.layer).toBe(-1);
    const clean = run(start, Array(PAUSE_AFTER_MS / 1000 + 1).fill(70_000), { score: 9 }, 1000);
    expect(clean.at(-1)?.layer).toBe(0);
  });
});
