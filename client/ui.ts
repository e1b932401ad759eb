/** Small DOM helpers: one visible view at a time, focus moved to its heading for screen readers. */

export type View = 'loading' | 'error' | 'check' | 'waiting' | 'call' | 'ended';
const views: View[] = ['loading', 'error', 'check', 'waiting', 'call', 'ended'];

/** Resolves once the document is parsed (an async page script can start before that). */
export function domReady(): Promise<void> {
  if (document.readyState !== 'loading') return Promise.resolve();
  return new Promise((resolve) => document.addEventListener('DOMContentLoaded', () => resolve(), { once: true }));
}

export function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
}

export function find(id: string): HTMLElement | null {
  return document.getElementById(id);
}

export function show(view: View): void {
  for (const v of views) el(`view-${v}`).hidden = v !== view;
  const heading = el(`view-${view}`).querySelector<HTMLElement>('h1');
  if (heading && !heading.classList.contains('visually-hidden')) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

export function setText(id: string, text: string): void {
  el(id).textContent = text;
}

export function showError(title: string, message: string, action?: string): void {
  setText('error-title', title);
  setText('error-message', message);
  if (action !== undefined) setText('error-action', action);
  show('error');
}
