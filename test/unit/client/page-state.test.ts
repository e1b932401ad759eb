/** The join page's state only moves along its table: a late answer cannot bring a screen back. */
import { describe, expect, it } from 'vitest';
import { PageStates } from '../../../client/page/state.js';

describe('the join page state', () => {
  it('walks a patient from loading through the waiting room and the call to the end', () => {
    const page = new PageStates();
    for (const s of ['check', 'joining', 'waiting', 'call', 'ended'] as const) expect(page.to(s)).toBe(true);
    expect(page.state).toBe('ended');
  });

  it('refuses Join twice and Join before the check', () => {
    const page = new PageStates();
    expect(page.to('joining')).toBe(false);
    page.to('check');
    expect(page.to('joining')).toBe(true);
    expect(page.to('joining')).toBe(false);
  });

  it('goes back to the check when the media could not load, and to waiting again on a rejoin', () => {
    const page = new PageStates();
    page.to('check');
    page.to('joining');
    expect(page.to('check')).toBe(true);
    page.to('joining');
    page.to('waiting');
    expect(page.to('waiting')).toBe(true);
    expect(page.is('waiting', 'call')).toBe(true);
  });

  it('keeps an ended or failed page where it is', () => {
    const ended = new PageStates();
    ended.to('check');
    ended.to('ended');
    for (const s of ['check', 'joining', 'waiting', 'call', 'error'] as const) expect(ended.to(s)).toBe(false);
    const failed = new PageStates();
    failed.to('error');
    for (const s of ['check', 'waiting', 'call', 'ended'] as const) expect(failed.to(s)).toBe(false);
    expect(failed.state).toBe('error');
  });
});
