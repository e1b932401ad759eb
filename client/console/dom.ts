/** DOM helpers for the console's page (client/console.html). */

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
}

/** Shows (or, with '', clears) the error under a form field and marks the field invalid. */
export function fieldError(input: HTMLInputElement, message: string): void {
  byId(`${input.id}-error`).textContent = message;
  if (message) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** Moves focus to a heading or other non-interactive element, for screen reader users. */
export function focusOn(e: HTMLElement): void {
  if (!e.hasAttribute('tabindex')) e.tabIndex = -1;
  e.focus({ preventScroll: false });
}

export function make<K extends keyof HTMLElementTagNameMap>(tag: K, props: { className?: string; text?: string } = {}): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props.className) e.className = props.className;
  if (props.text !== undefined) e.textContent = props.text;
  return e;
}

/** Visible text plus words only screen readers hear, so every control names its patient. */
export function labelled<T extends HTMLElement>(e: T, visible: string, hidden: string): T {
  e.append(visible, make('span', { className: 'visually-hidden', text: hidden }));
  return e;
}

/** A button named by `visible` + `hidden` (heard by screen readers only) that runs `onClick`. */
export function button(visible: string, hidden: string, className: string, onClick: () => void): HTMLButtonElement {
  const b = labelled(make('button', { className }), visible, hidden);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** A row's header cell, where focus goes when the control it was on disappears. */
export function rowHeader(): HTMLTableCellElement {
  const th = make('th');
  th.scope = 'row';
  th.setAttribute('role', 'rowheader');
  th.tabIndex = -1;
  return th;
}
