/**
 * The practice's people as a table: name and e-mail, status, roles (checkboxes with a Save
 * button), and Disable / Enable / New set-up link. Rendered afresh after each change; focus goes
 * back to the row that changed.
 */
import { staffRoles, type StaffRole } from '../../signalling/vocabulary.js';
import { button, make, rowHeader } from '../console/dom.js';
import type { StaffUser } from './api.js';
import { roleWords, statusWords } from './words.js';

export interface PeopleActions {
  setRoles(u: StaffUser, roles: StaffRole[]): void;
  disable(u: StaffUser): void;
  enable(u: StaffUser): void;
  setupLink(u: StaffUser): void;
}

export class PeopleTable {
  constructor(private readonly body: HTMLTableSectionElement, private readonly actions: PeopleActions, private readonly selfId: string) {}

  render(users: StaffUser[], focusId?: string): void {
    this.body.replaceChildren(...users.map((u) => this.row(u)));
    if (focusId) this.body.querySelector<HTMLElement>(`tr[data-id="${CSS.escape(focusId)}"] th`)?.focus();
  }

  private row(u: StaffUser): HTMLTableRowElement {
    const tr = make('tr');
    tr.dataset.id = u.id;
    tr.setAttribute('role', 'row');
    const name = rowHeader();
    name.append(make('span', { className: 'console-patient', text: u.id === this.selfId ? `${u.displayName} (you)` : u.displayName }),
      make('span', { className: 'console-phone', text: u.email }));

    const status = make('td', { text: statusWords[u.status] });
    status.dataset.label = 'Status';

    const roles = make('td');
    roles.dataset.label = 'Roles';
    const set = make('fieldset', { className: 'console-filter' });
    set.append(make('legend', { className: 'visually-hidden', text: `Roles of ${u.displayName}` }));
    const boxes = staffRoles.map((r) => {
      const id = `role-${u.id}-${r}`;
      const box = make('input');
      box.type = 'checkbox';
      box.id = id;
      box.value = r;
      box.checked = u.roles.includes(r);
      const label = make('label', { text: roleWords[r] });
      label.htmlFor = id;
      const choice = make('span', { className: 'console-choice' });
      choice.append(box, label);
      set.append(choice);
      return box;
    });
    set.append(button('Save roles', ` of ${u.displayName}`, 'button secondary admin-save-roles', () =>
      this.actions.setRoles(u, boxes.filter((b) => b.checked).map((b) => b.value as StaffRole))));
    roles.append(set);

    const actions = make('td', { className: 'console-actions' });
    actions.dataset.label = 'Actions';
    if (u.status === 'disabled') actions.append(button('Enable', ` ${u.displayName}`, 'button secondary admin-enable', () => this.actions.enable(u)));
    else {
      actions.append(button('New set-up link', ` for ${u.displayName}`, 'button secondary admin-setup-link', () => this.actions.setupLink(u)));
      if (u.id !== this.selfId) actions.append(button('Disable', ` ${u.displayName}`, 'button warning admin-disable', () => this.actions.disable(u)));
    }
    for (const cell of [status, roles, actions]) cell.setAttribute('role', 'cell');
    tr.append(name, status, roles, actions);
    return tr;
  }
}
