/**
 * "A patient is waiting": a banner (role=alert) naming everyone waiting, the count in the tab
 * title, and a chime when someone new starts waiting. The banner is rewritten only when who is
 * waiting changes, so screen readers announce arrivals rather than every poll.
 */
import type { ConsultationSummary } from './api.js';
import { labelled, make } from './dom.js';
import type { Tone } from './tone.js';
import { clock, isWaiting, patientLabel, type WaitingConsultation, waitingLine } from './words.js';

export class WaitingAlert {
  /** Consultation id -> when its waiting started, as last shown. */
  private shown = new Map<string, string>();

  constructor(
    private readonly banner: HTMLElement,
    private readonly tone: Tone,
    private readonly baseTitle: string,
    /** Offered beside each waiting patient to those who may join (clinicians). */
    private readonly join?: (c: ConsultationSummary, button: HTMLButtonElement) => void,
  ) {}

  update(list: ConsultationSummary[]): void {
    const waiting = list.filter(isWaiting);
    const next: Map<string, string> = new Map(waiting.map((c) => [c.id, c.waitingSince]));
    const arrived = waiting.filter((c) => this.shown.get(c.id) !== c.waitingSince);
    const changed = arrived.length > 0 || [...this.shown.keys()].some((id) => !next.has(id));
    this.shown = next;

    document.title = waiting.length > 0 ? `(${waiting.length}) waiting – ${this.baseTitle}` : this.baseTitle;
    if (changed) this.render(waiting);
    if (arrived.length > 0) this.tone.play();
  }

  clear(): void {
    this.shown.clear();
    this.banner.replaceChildren();
    document.title = this.baseTitle;
  }

  private render(waiting: WaitingConsultation[]): void {
    this.banner.replaceChildren(...waiting.map((c) => {
      const p = document.createElement('p');
      const line = document.createElement('strong');
      line.textContent = waitingLine(c);
      p.append(line, ` (since ${clock(c.waitingSince)})`);
      const join = this.join;
      if (join) {
        const button = labelled(make('button', { className: 'button' }), 'Join', ` video consultation with ${patientLabel(c)}`);
        button.type = 'button';
        button.addEventListener('click', () => {
          if (button.getAttribute('aria-disabled') !== 'true') join(c, button);
        });
        p.append(' ', button);
      }
      return p;
    }));
  }
}
