/** How many of the camera's simulcast layers the browser sends, as the page tells the server (client/call/sent-layers.ts). */
import { describe, expect, it } from 'vitest';
import { BACK_AFTER_LOOKS, FRAMES_TO_JUDGE, SentLayersJudge, layersSent } from '../../../client/call/sent-layers.js';

describe('the camera layers a page says its browser sends', () => {
  it('counts the layers, bottom up, that encoded frames since the last look', () => {
    expect(layersSent([100, 100], [104, 104])).toBe(2);
    // The top layer stopped (short of upload): one.
    expect(layersSent([100, 100], [104, 100])).toBe(1);
    // A middle layer stopped: nothing above it counts.
    expect(layersSent([100, 100, 100], [104, 100, 104])).toBe(1);
  });

  it('says nothing when the lowest layer did not encode enough to judge by', () => {
    // Camera off, or its picture going over the direct path.
    expect(layersSent([100, 100], [100, 100])).toBeUndefined();
    expect(layersSent([100, 100], [100 + FRAMES_TO_JUDGE - 1, 100])).toBeUndefined();
    // The first look has nothing to compare with; a browser without the figure, nothing to say.
    expect(layersSent([], [104, 104])).toBeUndefined();
    expect(layersSent([undefined, undefined], [undefined, undefined])).toBeUndefined();
  });

  it('tells a stop at once, a layer back only after a run of looks, and nothing twice', () => {
    const judge = new SentLayersJudge(2);
    expect(judge.look(2)).toBeUndefined();
    expect(judge.look(1)).toBe(1);
    expect(judge.look(1)).toBeUndefined();
    // The top layer back for a while, then stopped again (Chromium short of upload): nothing said.
    for (let i = 1; i < BACK_AFTER_LOOKS; i++) expect(judge.look(2)).toBeUndefined();
    expect(judge.look(1)).toBeUndefined();
    // A look with nothing to judge by breaks the run too.
    for (let i = 1; i < BACK_AFTER_LOOKS; i++) expect(judge.look(2)).toBeUndefined();
    expect(judge.look(undefined)).toBeUndefined();
    for (let i = 1; i < BACK_AFTER_LOOKS; i++) expect(judge.look(2)).toBeUndefined();
    expect(judge.look(2)).toBe(2);
  });
});
