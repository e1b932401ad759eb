/**
 * The call screen's notice about a weak connection (issue #20), in its own polite live region
 * (join.html `quality-notice`): from this end's own statistics once a second (call/quality.ts),
 * and from the server, which measures what each link carries towards its page: when the video
 * between us and someone is cut to a smaller picture or paused for want of bandwidth. Advice goes
 * to the one whose link is weak (the patient gets plain words); the other end, what to expect.
 */
import type { Role, VideoWeak } from '../../signalling/events.js';
import type { RemoteStats } from '../call.js';
import { QualityJudge } from '../call/quality.js';
import { find } from './dom.js';

export const WEAK_PATIENT = 'Your connection is weak. Move nearer your router, or turn Wi-Fi off and use mobile data.';
export const WEAK_OTHERS = 'The connection is weak: the video may be smaller or pause for a while.';
export const VIDEO_PAUSED = 'Video paused: weak connection. You can still hear each other.';

export class QualityNotice {
  private timer: ReturnType<typeof setInterval> | undefined;
  private judge = new QualityJudge();
  /** The video with whom does not fit a link, and whose link. */
  private readonly held = new Map<string, Pick<VideoWeak, 'fit' | 'yours'>>();

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

  videoWeak({ participantId, fit, yours }: VideoWeak): void {
    if (fit === 'full') this.held.delete(participantId);
    else this.held.set(participantId, { fit, yours });
    this.render();
  }

  stop(): void {
    clearInterval(this.timer);
    this.held.clear();
    this.render();
  }

  private render(): void {
    const held = [...this.held.values()];
    const ours = this.judge.quality === 'weak' || held.some((h) => h.yours);
    // Plain advice to a patient whose own link is weak; what to expect to everyone else.
    const advice = ours && this.role === 'patient' ? WEAK_PATIENT : WEAK_OTHERS;
    let text = '';
    if (held.some((h) => h.fit === 'paused')) text = advice === WEAK_PATIENT ? `${VIDEO_PAUSED} ${WEAK_PATIENT}` : VIDEO_PAUSED;
    else if (ours || held.length > 0) text = advice;
    const box = find('quality-notice');
    if (box && box.textContent !== text) box.textContent = text;
  }
}
