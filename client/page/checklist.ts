/**
 * Clinician: the start-of-call checklist (hazard log H07), a panel beside the video from the
 * moment a patient is in the call. Ticks only, saved as the `checklist` event and kept in the
 * audit log; nothing typed. Until the patient's location and call-back number are saved as
 * confirmed, the panel cannot be put away and says why: in an emergency, that is what the
 * emergency services need.
 */
import type { ChecklistPayload, ParticipantView } from '../../signalling/events.js';
import { request, type SignalSocket } from '../signal.js';
import { type ElementId, el, setText } from './dom.js';

type PanelState = 'unseen' | 'open' | 'collapsed';
const moves: Record<PanelState, readonly PanelState[]> = {
  unseen: ['open'],
  open: ['collapsed'],
  collapsed: ['open'],
};

/** Each tick's checkbox; its label in join.html is the plain sentence the clinician confirms. */
const boxes = {
  location: 'checklist-location',
  identity: 'checklist-identity',
  private: 'checklist-private',
  othersAgreed: 'checklist-others',
} as const satisfies Record<keyof ChecklistPayload, ElementId>;

export class ChecklistPanel {
  private state: PanelState = 'unseen';
  /** The location tick as last saved: until it is true, the panel stays open. */
  private locationSaved = false;

  constructor(private readonly socket: SignalSocket) {
    el('checklist-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.save();
    });
    el('checklist-toggle').addEventListener('click', () => this.to(this.state === 'open' ? 'collapsed' : 'open'));
  }

  /** On every change of who is in the call: the panel opens the first time a patient is. */
  render(inCall: ParticipantView[]): void {
    if (inCall.some((p) => p.role === 'patient')) this.to('open');
  }

  private to(next: PanelState): void {
    if (!moves[this.state].includes(next) || (next === 'collapsed' && !this.locationSaved)) return;
    this.state = next;
    this.draw();
  }

  private draw(): void {
    el('checklist-panel').hidden = this.state === 'unseen';
    el('checklist-body').hidden = this.state === 'collapsed';
    el('checklist-why').hidden = this.locationSaved;
    const toggle = el('checklist-toggle');
    toggle.hidden = !this.locationSaved;
    toggle.setAttribute('aria-expanded', String(this.state !== 'collapsed'));
    toggle.textContent = this.state === 'collapsed' ? 'Show checklist' : 'Hide checklist';
  }

  private async save(): Promise<void> {
    const ticks: ChecklistPayload = {
      location: el(boxes.location).checked,
      identity: el(boxes.identity).checked,
      private: el(boxes.private).checked,
      othersAgreed: el(boxes.othersAgreed).checked,
    };
    setText('checklist-status', 'Saving…');
    try {
      await request(this.socket, 'checklist', ticks);
      this.locationSaved = ticks.location;
      setText('checklist-status', ticks.location ? 'Checklist saved.' : 'Checklist saved. The patient\'s location is not confirmed yet.');
    } catch (err) {
      setText('checklist-status', `The checklist was not saved: ${(err as Error).message}`);
    }
    this.draw();
  }
}
