/**
 * Where the page is, as one value with a transition table: anything else is refused, so a late
 * answer (a join that resolves after the consultation ended, say) cannot bring a screen back.
 *   loading -> check -> joining -> waiting -> call -> ended   (any step after loading -> error)
 */

export type PageState = 'loading' | 'check' | 'joining' | 'waiting' | 'call' | 'ended' | 'error';

const next: Record<PageState, readonly PageState[]> = {
  loading: ['check', 'error'],
  // The connection, opened during the check, can already be refused or find the consultation over.
  check: ['joining', 'ended', 'error'],
  // Back to check when the media chunk could not be fetched.
  joining: ['check', 'waiting', 'call', 'ended', 'error'],
  // A rejoin after a reconnect lands in the waiting room again.
  waiting: ['waiting', 'call', 'ended', 'error'],
  call: ['waiting', 'ended', 'error'],
  ended: [],
  error: [],
};

export class PageStates {
  private current: PageState = 'loading';

  get state(): PageState {
    return this.current;
  }

  is(...states: PageState[]): boolean {
    return states.includes(this.current);
  }

  /** Moves to `to` if the table allows it; says whether it did. */
  to(to: PageState): boolean {
    if (!next[this.current].includes(to)) return false;
    this.current = to;
    return true;
  }
}
