/**
 * The join page's elements (client/join.html), in one typed place: every id the scripts use and
 * its element type. One visible view at a time, focus moved to its heading for screen readers.
 */

export type View = 'loading' | 'error' | 'check' | 'waiting' | 'call' | 'ended' | 'identity';
const views: View[] = ['loading', 'error', 'check', 'waiting', 'call', 'ended', 'identity'];

/** The page's fixed elements by id. Generated ones (remote tiles, waiting rows) are looked up with `find`. */
interface Elements extends Record<`view-${View}`, HTMLElement> {
  // error
  'error-title': HTMLElement;
  'error-message': HTMLElement;
  'error-action': HTMLElement;
  // check
  'inapp-warning': HTMLElement;
  'inapp-help': HTMLElement;
  'check-preview': HTMLElement;
  'check-video': HTMLVideoElement;
  'check-meter': HTMLElement;
  'mic-level': HTMLElement;
  'check-status': HTMLElement;
  'permission-help': HTMLDetailsElement;
  'permission-help-text': HTMLElement;
  'join-button': HTMLButtonElement;
  'switch-check-camera': HTMLButtonElement;
  'retry-media': HTMLButtonElement;
  // waiting
  'waiting-status': HTMLElement;
  'practice-message-box': HTMLElement;
  'practice-message': HTMLElement;
  'waiting-camera-button': HTMLButtonElement;
  // call
  'call-title': HTMLElement;
  'waiting-panel': HTMLElement;
  'waiting-list': HTMLUListElement;
  'people-panel': HTMLElement;
  'people-list': HTMLUListElement;
  'call-status': HTMLElement;
  'checklist-panel': HTMLElement;
  'checklist-toggle': HTMLButtonElement;
  'checklist-body': HTMLElement;
  'checklist-why': HTMLElement;
  'checklist-form': HTMLFormElement;
  'checklist-location': HTMLInputElement;
  'checklist-identity': HTMLInputElement;
  'checklist-private': HTMLInputElement;
  'checklist-others': HTMLInputElement;
  'checklist-status': HTMLElement;
  'call-notice': HTMLElement;
  remotes: HTMLElement;
  'self-video': HTMLVideoElement;
  'mute-button': HTMLButtonElement;
  'camera-button': HTMLButtonElement;
  'switch-camera': HTMLButtonElement;
  'share-button': HTMLButtonElement;
  'leave-button': HTMLButtonElement;
  'end-button': HTMLButtonElement;
  chat: HTMLElement;
  'chat-button': HTMLButtonElement;
  'chat-unread': HTMLElement;
  'chat-close': HTMLButtonElement;
  'chat-log': HTMLOListElement;
  'chat-form': HTMLFormElement;
  'chat-input': HTMLInputElement;
  'invite-panel': HTMLDetailsElement;
  'invite-form': HTMLFormElement;
  'invite-label': HTMLSelectElement;
  'invite-name': HTMLInputElement;
  'invite-phone': HTMLInputElement;
  'invite-error': HTMLElement;
  'invite-result': HTMLElement;
  'invite-link': HTMLInputElement;
  'copy-invite': HTMLButtonElement;
  'invite-status': HTMLElement;
  // ended
  'ended-title': HTMLElement;
  'ended-message': HTMLElement;
  // identity check (issue #18)
  'identity-summary': HTMLElement;
  'identity-summary-link': HTMLAnchorElement;
  'identity-form': HTMLFormElement;
  'identity-group': HTMLElement;
  'dob-error': HTMLElement;
  'dob-error-text': HTMLElement;
  'dob-day': HTMLInputElement;
  'dob-month': HTMLInputElement;
  'dob-year': HTMLInputElement;
  'identity-button': HTMLButtonElement;
}
export type ElementId = keyof Elements;

/** Resolves once the document is parsed (an async page script can start before that). */
export function domReady(): Promise<void> {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', () => resolve(), { once: true }));
}

export function el<K extends ElementId>(id: K): Elements[K] {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as Elements[K];
}

/** An element the page generated, if it is still there. */
export function find(id: string): HTMLElement | null {
  return document.getElementById(id);
}

export function setText(id: ElementId, text: string): void {
  el(id).textContent = text;
}

export function show(view: View): void {
  for (const v of views) el(`view-${v}`).hidden = v !== view;
  const heading = el(`view-${view}`).querySelector<HTMLElement>('h1');
  if (heading && !heading.classList.contains('visually-hidden')) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

export function showError(title: string, message: string, action?: string): void {
  setText('error-title', title);
  setText('error-message', message);
  if (action !== undefined) setText('error-action', action);
  show('error');
}
