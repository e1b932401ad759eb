/**
 * The screens after Join, built here for the Consultation (page/consultation.ts, in the media
 * chunk) to drive. They are plain DOM and belong to the page's first script: together with the
 * check step they compress well, while the media chunk keeps only the connection and the media.
 */
import type { ParticipantView, Role } from '../../signalling/events.js';
import type { Call } from '../call.js';
import type { SignalSocket } from '../signal.js';
import { CallScreen } from './call-screen.js';
import { Chat } from './chat.js';
import { ChecklistPanel } from './checklist.js';
import { Controls } from './controls.js';
import * as ended from './ended.js';
import { InvitePanel } from './invite.js';
import type { LocalMedia } from './local.js';
import type { PageStates } from './state.js';
import * as waiting from './waiting.js';
import { PeopleList } from './people.js';
import { WaitingList } from './waiting-list.js';
import { CallbackNotice } from './callback-notice.js';

/** What the screens ask of the Consultation that drives them. */
export interface ScreenHooks {
  call(): Call | undefined;
  selfId(): string;
  mediaError(err: unknown): void;
  /** Leave was answered (or not): the page shows they left. */
  left(): void;
  /** The clinician admits someone from the waiting room. */
  admit(p: ParticipantView): Promise<unknown>;
  messageWaiting(p: ParticipantView, text: string): Promise<unknown>;
  /** The clinician removes someone (waiting or in the call). */
  remove(p: ParticipantView): Promise<unknown>;
  /** A remote picture decoded its first frame. */
  firstFrame(): void;
}

export interface Screens {
  call: CallScreen;
  chat: Chat;
  controls: Controls;
  waiting: typeof waiting;
  ended: typeof ended;
}

export type ScreenFactory = (socket: SignalSocket, hooks: ScreenHooks) => Screens;

export function screenFactory(page: PageStates, local: LocalMedia, role: Role): ScreenFactory {
  return (socket, hooks) => {
    const clinician = role === 'clinician';
    const waitingList = clinician ? new WaitingList({ admit: hooks.admit, message: hooks.messageWaiting, remove: hooks.remove }) : undefined;
    if (clinician) new InvitePanel(socket);
    if (clinician) new CallbackNotice(socket);
    return {
      call: new CallScreen(
        page, role, waitingList, hooks.firstFrame,
        clinician ? new PeopleList(hooks.remove) : undefined, clinician ? new ChecklistPanel(socket) : undefined,
      ),
      chat: new Chat(socket, hooks.selfId),
      controls: new Controls({ socket, role, local, call: hooks.call, mediaError: hooks.mediaError, left: hooks.left }),
      waiting,
      ended,
    };
  };
}
