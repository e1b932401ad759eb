/**
 * The call screen: who is in the call and in what state, their pictures, our own self-view, and
 * (for the clinician) the waiting room panel, who may be removed and the start-of-call checklist. What each participant's media does is sampled once
 * a second, so a dropped connection shows as "reconnecting" even before the server knows.
 */
import type { ParticipantView, Role } from '../../signalling/events.js';
import type { Call, FlowState, Tile } from '../call.js';
import { mark } from '../timeline.js';
import type { ChecklistPanel } from './checklist.js';
import { el, find, setText, show } from './dom.js';
import type { PageStates } from './state.js';
import type { PeopleList } from './people.js';
import type { WaitingList } from './waiting-list.js';
import { ScreenWakeLock } from './wake-lock.js';

export class CallScreen {
  private readonly participants = new Map<string, ParticipantView>();
  /** What actually arrives from each participant (their connection, or ours, may have dropped). */
  private readonly flow = new Map<string, FlowState>();
  private flowTimer: ReturnType<typeof setInterval> | undefined;
  /** The screen stays on from entering the call until it is over for this person. */
  private readonly wakeLock = new ScreenWakeLock();

  constructor(
    private readonly page: PageStates,
    private readonly role: Role,
    /** The clinician's waiting room panel; absent for everyone else. */
    private readonly waitingList: WaitingList | undefined,
    /** The first decoded frame of a remote picture. */
    private readonly onFirstFrame: () => void,
    /** The clinician's list of who is in the call, to remove someone; absent for everyone else. */
    private readonly people?: PeopleList,
    /** The clinician's start-of-call checklist, shown once a patient is in the call; absent for everyone else. */
    private readonly checklist?: ChecklistPanel,
  ) {}

  /** After each join: everyone as the server sees them now. */
  reset(participants: ParticipantView[]): void {
    this.participants.clear();
    for (const p of participants) this.participants.set(p.id, p);
    this.render();
  }

  update(p: ParticipantView, call: Call | undefined): void {
    this.participants.set(p.id, p);
    if (p.presence === 'left') {
      call?.forget(p.id);
      find(`remote-${p.id}`)?.remove();
      find(`remote-${p.id}-screen`)?.remove();
    }
    this.render();
  }

  /** Moves the page into the call (if it is not there yet) and watches the media of `call` from then on. */
  show(local: MediaStream | undefined, call: () => Call | undefined): void {
    if (!this.page.is('call') && this.page.to('call')) {
      this.watch(call);
      el('self-video').srcObject = local ?? null;
      show('call');
      this.wakeLock.hold();
    }
    this.render();
  }

  remoteStream(tile: Tile, stream: MediaStream): void {
    let figure = find(`remote-${tile.id}`);
    if (!figure) {
      figure = document.createElement('figure');
      figure.id = `remote-${tile.id}`;
      figure.className = tile.screen ? 'oc-remote oc-screen' : 'oc-remote';
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      const caption = document.createElement('figcaption');
      const name = this.participants.get(tile.participantId)?.name ?? '';
      caption.textContent = tile.screen ? `${name}'s screen` : name;
      video.setAttribute('aria-label', `Video of ${caption.textContent || 'the other person'}`);
      // The first decoded video frame, where the browser can tell us (not Firefox ESR 115).
      if ('requestVideoFrameCallback' in video) {
        video.requestVideoFrameCallback(() => {
          mark('first-video-frame');
          this.onFirstFrame();
        });
      }
      figure.append(video, caption);
      el('remotes').append(figure);
    }
    const video = figure.querySelector('video') as HTMLVideoElement;
    if (video.srcObject !== stream) video.srcObject = stream;
    video.play().catch(() => offerSoundButton(video));
  }

  remoteTrackEnded(tile: Tile, stream: MediaStream): void {
    // A shared screen that stopped leaves no empty tile behind.
    if (tile.screen && stream.getTracks().length === 0) find(`remote-${tile.id}`)?.remove();
  }

  /** Nothing of the call stays on screen. */
  clear(): void {
    clearInterval(this.flowTimer);
    this.wakeLock.release();
    for (const v of document.querySelectorAll('video')) v.srcObject = null;
    el('remotes').replaceChildren();
    this.waitingList?.title(0);
  }

  /** Once a second: does media still arrive from everyone? */
  private watch(call: () => Call | undefined): void {
    clearInterval(this.flowTimer);
    this.flowTimer = setInterval(() => {
      void call()?.sampleFlow().then((now) => {
        let changed = false;
        for (const [id, s] of now) {
          if (this.flow.get(id) !== s) {
            changed = true;
            if (s === 'stalled' || this.flow.get(id) === 'stalled') mark(`remote-${s}`);
          }
          this.flow.set(id, s);
        }
        if (changed) this.render();
      });
    }, 1000);
  }

  private render(): void {
    const others = [...this.participants.values()];
    // Who is in the call, and in what state, for the person at this end.
    const inCall = others.filter((p) => p.presence === 'admitted' || p.presence === 'reconnecting');
    const reconnecting = (p: ParticipantView) => p.presence === 'reconnecting' || this.flow.get(p.id) === 'stalled';
    const status = inCall.length === 0
      ? this.role === 'clinician' ? 'Nobody else is in the call yet.' : 'Waiting for your clinician to join.'
      : inCall.map((p) => (reconnecting(p) ? `${p.name} is reconnecting…` : `${p.name} is in the call.`)).join(' ');
    if (this.page.is('call')) setText('call-status', status);
    for (const p of inCall) {
      const caption = document.querySelector(`#remote-${CSS.escape(p.id)} figcaption`);
      if (caption) caption.textContent = reconnecting(p) ? `${p.name} (reconnecting)` : p.name;
    }
    this.waitingList?.render(others.filter((p) => p.presence === 'waiting'));
    this.people?.render(inCall);
    this.checklist?.render(inCall);
  }
}

/** Autoplay rules can block sound: one tap on a real button starts it. */
function offerSoundButton(video: HTMLVideoElement): void {
  if (document.getElementById('sound-button')) return;
  const b = document.createElement('button');
  b.id = 'sound-button';
  b.type = 'button';
  b.className = 'nhsuk-button';
  b.textContent = 'Tap to turn on sound';
  b.addEventListener('click', () => {
    void video.play();
    b.remove();
  });
  el('remotes').before(b);
}
