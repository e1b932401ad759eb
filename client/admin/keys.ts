/**
 * The practice's API keys as a table: name, created, last used, whether it works; Rotate, and
 * Revoke with a confirmation step in the row (revoking stops the practice system at once).
 */
import { button, make, rowHeader } from '../console/dom.js';
import type { ApiKeyView } from './api.js';
import { keyStatus, when } from './words.js';

export interface KeyActions {
  rotate(k: ApiKeyView): void;
  revoke(k: ApiKeyView): void;
}

function cell(label: string, text: string): HTMLTableCellElement {
  const td = make('td', { text });
  td.dataset.label = label;
  td.setAttribute('role', 'cell');
  return td;
}

export class KeysTable {
  constructor(private readonly body: HTMLTableSectionElement, private readonly actions: KeyActions) {}

  render(keys: ApiKeyView[], focusId?: string): void {
    this.body.replaceChildren(...keys.map((k) => this.row(k)));
    if (focusId) this.body.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(focusId)}"] th`)?.focus();
  }

  private row(k: ApiKeyView): HTMLTableRowElement {
    const tr = make('tr');
    tr.dataset.id = k.id;
    tr.setAttribute('role', 'row');
    const name = rowHeader();
    name.textContent = k.name;
    const actions = cell('Actions', '');
    actions.className = 'console-actions';
    if (k.usable && !k.configured) {
      const confirm = make('span', { className: 'admin-confirm' });
      confirm.hidden = true;
      const revoke = button('Revoke', ` ${k.name}`, 'button warning admin-revoke', () => {
        revoke.hidden = true;
        rotate.hidden = true;
        confirm.hidden = false;
        yes.focus();
      });
      const rotate = button('Rotate', ` ${k.name}`, 'button secondary admin-rotate', () => this.actions.rotate(k));
      const yes = button('Yes, revoke', ` ${k.name} now`, 'button warning admin-revoke-confirm', () => this.actions.revoke(k));
      const no = button('Cancel', '', 'button secondary', () => {
        confirm.hidden = true;
        revoke.hidden = false;
        rotate.hidden = false;
        revoke.focus();
      });
      confirm.append(make('span', { text: 'The practice system using it stops working at once.' }), yes, no);
      actions.append(rotate, revoke, confirm);
    }
    tr.append(name, cell('Created', when(k.createdAt)), cell('Last used', k.lastUsedAt ? when(k.lastUsedAt) : 'Never'),
      cell('Status', keyStatus(k)), actions);
    return tr;
  }
}
