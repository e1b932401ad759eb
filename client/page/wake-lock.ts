/**
 * Keeps the screen on while the person is in the call (Screen Wake Lock), so a phone does not
 * dim and lock in the middle of a consultation. The browser drops the lock whenever the page is
 * hidden; it is asked for again when the page is shown. Where the browser has no such API (or
 * refuses), nothing happens: the call works as before.
 */

/** Wanted from entering the call until leaving it. */
type Wish = 'off' | 'on';

export class ScreenWakeLock {
  private wish: Wish = 'off';
  private sentinel: WakeLockSentinel | undefined;
  private readonly visible = () => {
    if (document.visibilityState === 'visible') void this.request();
  };

  constructor() {
    // For tests and support (window.openconsult.wakeLock()): is the screen being kept on now?
    if (typeof window.openconsult === 'object') Object.assign(window.openconsult, { wakeLock: () => this.held });
  }

  get held(): boolean {
    return this.sentinel !== undefined && !this.sentinel.released;
  }

  hold(): void {
    if (this.wish === 'on') return;
    this.wish = 'on';
    document.addEventListener('visibilitychange', this.visible);
    void this.request();
  }

  release(): void {
    if (this.wish === 'off') return;
    this.wish = 'off';
    document.removeEventListener('visibilitychange', this.visible);
    const s = this.sentinel;
    this.sentinel = undefined;
    void s?.release().catch(() => undefined);
  }

  private async request(): Promise<void> {
    if (!('wakeLock' in navigator) || this.held || document.visibilityState !== 'visible') return;
    try {
      const s = await navigator.wakeLock.request('screen');
      // Left the call while the browser was answering: let it go at once.
      if (this.wish === 'off') void s.release().catch(() => undefined);
      else this.sentinel = s;
    } catch {
      // Refused (battery saver, a policy, the page not focused): the call goes on without it.
    }
  }
}
