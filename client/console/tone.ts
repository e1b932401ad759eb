/**
 * A short two-note chime through the Web Audio API, for "a patient is waiting". Browsers keep an
 * AudioContext suspended until the user has interacted with the page, so the context is resumed
 * on the first click or key press; until then (or without Web Audio at all) `play` is silent and
 * never throws: the banner and the tab title carry the alert on their own.
 */

type AudioContextClass = typeof AudioContext;

function audioContextClass(): AudioContextClass | undefined {
  const w = window as unknown as { AudioContext?: AudioContextClass; webkitAudioContext?: AudioContextClass };
  return w.AudioContext ?? w.webkitAudioContext;
}

export class Tone {
  private ctx: AudioContext | undefined;
  private unavailable = false;
  /** Chimes actually scheduled (a diagnostic for support staff and tests). */
  played = 0;

  constructor(target: Document = document) {
    const unlock = (): void => {
      const ctx = this.context();
      if (!ctx) return;
      if (ctx.state === 'running') {
        target.removeEventListener('click', unlock, true);
        target.removeEventListener('keydown', unlock, true);
        return;
      }
      ctx.resume().catch(() => undefined);
    };
    target.addEventListener('click', unlock, true);
    target.addEventListener('keydown', unlock, true);
  }

  /** Plays the chime if sound is allowed now; returns whether it was scheduled. */
  play(): boolean {
    const ctx = this.context();
    if (!ctx) return false;
    if (ctx.state !== 'running') {
      // Perhaps allowed by now; only chime if it resumes promptly, not on some later click.
      const asked = Date.now();
      ctx.resume().then(() => {
        if (ctx.state === 'running' && Date.now() - asked < 1000) this.chime(ctx);
      }).catch(() => undefined);
      return false;
    }
    return this.chime(ctx);
  }

  private chime(ctx: AudioContext): boolean {
    try {
      const start = ctx.currentTime + 0.02;
      for (const [offset, frequency] of [[0, 880], [0.22, 660]] as const) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = 'sine';
        osc.frequency.value = frequency;
        // A soft attack and release: no clicks.
        const t = start + offset;
        gain.gain.setValueAtTime(0.0001, t);
        gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.18);
        osc.connect(gain).connect(ctx.destination);
        osc.start(t);
        osc.stop(t + 0.2);
      }
      this.played++;
      return true;
    } catch {
      return false;
    }
  }

  private context(): AudioContext | undefined {
    if (this.ctx || this.unavailable) return this.ctx;
    const Ctor = audioContextClass();
    try {
      if (Ctor) this.ctx = new Ctor();
    } catch {
      // No audio device, or too many contexts: stay silent.
    }
    if (!this.ctx) this.unavailable = true;
    return this.ctx;
  }
}
