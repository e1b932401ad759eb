/**
 * "Phone me instead" (issue #18): a patient who could not get the video to work asked the
 * practice to phone them. It is alerted as a waiting patient is (./waiting-alert.ts): a banner
 * (role=alert) naming each, the count in the tab title, and the chime when a new one comes; the
 * banner is rewritten only when the requests change. Those who may re-send links mark it done.
 */
import type { ConsultationSummary } from './api.js';
import { labelled, make } from './dom.js';
import type { Tone } from './tone.js';
import { callbackLine, clock, isClosed, patientLabel } from './words.js';

type Requested = ConsultationSummary & { callbackRequestedAt: string };

const isRequested = (c: ConsultationSummary): c is Requested => c.callbackRequestedAt !== null;

export class CallbackAlert {
  /** Consultation id -> when its request was made, as last shown. */
  private shown = new Map<string, string>();

  constructor(
    private readonly banner: HTMLElement,
    private readonly tone: Tone,
    private readonly markDone?: (c: ConsultationSummary, button: HTMLButtonElement) => void,
  ) {}

  /** After the waiting alert's update (which sets the tab title afresh): adds the count to it. */
  update(list: ConsultationSummary[]): void {
    // A request stays until marked done, even once the consultation has ended: it is still a call to make.
    const requested = list.filter(isRequested);
    const next = new Map(requested.map((c) => [c.id, c.callbackRequestedAt]));
    const arrived = requested.filter((c) => this.shown.get(c.id) !== c.callbackRequestedAt);
    const changed = arrived.length > 0 || [...this.shown.keys()].some((id) => !next.has(id));
    this.shown = next;
    if (requested.length > 0) document.title = `(${requested.length}) to phone – ${document.title}`;
    if (changed) this.render(requested);
    if (arrived.length > 0) this.tone.play();
  }

  private render(requested: Requested[]): void {
    this.banner.replaceChildren(...requested.map((c) => {
      const p = document.createElement('p');
      const line = document.createElement('strong');
      line.textContent = callbackLine(c);
      p.append(line, ` (at ${clock(c.callbackRequestedAt)}${isClosed(c) ? ', after the consultation closed' : ''})`);
      const markDone = this.markDone;
      if (markDone) {
        const button = labelled(make('button', { className: 'button secondary' }), 'Mark as phoned', ` ${patientLabel(c)}`);
        button.type = 'button';
        button.addEventListener('click', () => {
          if (button.getAttribute('aria-disabled') !== 'true') markDone(c, button);
        });
        p.append(' ', button);
      }
      return p;
    }));
  }
}
