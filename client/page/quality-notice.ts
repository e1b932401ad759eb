/**
 * The call screen's notice about a weak connection (issue #20), in its own polite live region
 * (join.html `quality-notice`): from this end's own statistics once a second (call/quality.ts),
 * and from the server when the video between us and someone pauses because the link cannot carry
 * even the smallest picture. The patient gets plain advice; the clinician, what to expect.
 */
import type { Role } from '../../signalling/events.js';
import type { RemoteStats } from '../call.js';
import { QualityJudge } from '../call/quality.js';
import { find } from './dom.js';

export const WEAK_PATIENT = 'Your connection is weak. Move nearer your router, or turn Wi-Fi off and use mobile data.';
export const WEAK_OTHERS = 'The connection is weak: the video may be smaller or pause for a while.';
export const VIDEO_PAUSED = 'Video paused: weak connection. You can still hear each other.';

export class QualityNotice {
  private timer: ReturnType<typeof setInterval> | undefined;
  private judge = new QualityJudge();
  /** Who the video with is paused for want of bandwidth (either way). */
  private readonly paused = new Set<string>();

  constructor(private readonly role: Role) {}

  /** Starts judging once a second (again after each join). */
  watch(stats: () => Promise<RemoteStats>): void {
    this.stop();
    this.judge = new QualityJudge();
    this.timer = setInterval(() => {
      void stats().then((s) => {
        this.judge.judge(s);
        this.render();
      }, () => undefined);
    }, 1000);
  }

  videoWeak(participantId: string, paused: boolean): void {
    if (paused) this.paused.add(participantId);
    else this.paused.delete(participantId);
    this.render();
  }

  stop(): void {
    clearInterval(this.timer);
    this.paused.clear();
    this.render();
  }

  private render(): void {
    const weak = this.judge.quality === 'weak' || this.paused.size > 0;
    const advice = this.role === 'patient' ? WEAK_PATIENT : WEAK_OTHERS;
    const text = !weak ? '' : this.paused.size > 0 ? `${VIDEO_PAUSED} ${this.role === 'patient' ? WEAK_PATIENT : ''}`.trim() : advice;
    const box = find('quality-notice');
    if (box && box.textContent !== text) box.textContent = text;
  }
}
