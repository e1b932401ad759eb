/**
 * The list of today's consultations: one table row per consultation, keyed by id. Each poll
 * updates the rows' text in place, so a button the clinician is on keeps its focus; rows are
 * only added, moved when out of order, or removed when they leave the list. A row offers only
 * what the signed-in person may do: a receptionist gets no Join and no End.
 */
import type { Permission } from '../../server/auth/permissions.js';
import type { ConsultationSummary } from './api.js';
import { labelled, make, rowHeader } from './dom.js';
import { clock, deliveryWords, identityWords, isClosed, patientLabel, statusWords } from './words.js';

export interface RowActions {
  /** The signed-in clinician joins the call (a fresh link of theirs, opened in a new tab). */
  join(c: ConsultationSummary, button: HTMLButtonElement): void;
  resend(c: ConsultationSummary, button: HTMLButtonElement): void;
  end(c: ConsultationSummary, button: HTMLButtonElement): void;
}

interface Row {
  tr: HTMLTableRowElement;
  patient: HTMLTableCellElement;
  created: HTMLTimeElement;
  status: HTMLSpanElement;
  /** "Identity check failed" (issue #18), shown only then. */
  identity: HTMLSpanElement;
  /** What became of the patient's text (delivery receipts). */
  sms: HTMLSpanElement;
  join: HTMLButtonElement;
  resend: HTMLButtonElement;
  end: HTMLButtonElement;
  current: ConsultationSummary;
}

function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

export class ConsultationTable {
  private readonly rows = new Map<string, Row>();

  constructor(
    private readonly body: HTMLTableSectionElement,
    private readonly empty: HTMLElement,
    private readonly actions: RowActions,
    /** The signed-in person's rights (GET /api/v1/me). */
    private readonly rights: readonly Permission[],
  ) {}

  update(list: ConsultationSummary[], now: number): void {
    const seen = new Set<string>();
    let previous: HTMLTableRowElement | null = null;
    for (const c of list) {
      seen.add(c.id);
      let row = this.rows.get(c.id);
      if (!row) {
        row = this.createRow(c);
        this.rows.set(c.id, row);
      }
      // Keep the list's order, moving a row only when it is out of place.
      const expected: ChildNode | null = previous ? previous.nextSibling : this.body.firstChild;
      if (expected !== row.tr) this.body.insertBefore(row.tr, expected);
      this.fill(row, c, now);
      previous = row.tr;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    this.empty.hidden = this.rows.size > 0;
  }

  private createRow(c: ConsultationSummary): Row {
    const who = patientLabel(c);
    const tr = make('tr');
    tr.dataset.id = c.id;
    tr.setAttribute('role', 'row');

    const patient = rowHeader();
    patient.append(make('span', { className: 'console-patient', text: who }));
    if (c.patientName && c.patientPhone) patient.append(make('span', { className: 'console-phone', text: c.patientPhone }));

    const createdCell = make('td');
    createdCell.dataset.label = 'Created';
    const created = make('time');
    createdCell.append(created);

    const statusCell = make('td');
    statusCell.dataset.label = 'Status';
    const status = make('span', { className: 'console-badge' });
    const sms = make('span', { className: 'console-sms' });
    statusCell.append(status, sms);
    const identity = make('span', { className: 'console-badge console-badge--failed console-identity' });
    identity.hidden = true;
    statusCell.append(' ', identity);

    const actionsCell = make('td', { className: 'console-actions' });
    actionsCell.dataset.label = 'Actions';
    const join = labelled(make('button', { className: 'button console-join' }), 'Join', ` video consultation with ${who}`);
    join.type = 'button';
    const resend = labelled(make('button', { className: 'button secondary console-resend' }), 'Re-send link', ` to ${who}`);
    resend.type = 'button';
    const end = labelled(make('button', { className: 'button warning console-end' }), 'End', ` consultation with ${who}`);
    end.type = 'button';
    actionsCell.append(join, resend, end);

    for (const cell of [createdCell, statusCell, actionsCell]) cell.setAttribute('role', 'cell');
    tr.append(patient, createdCell, statusCell, actionsCell);

    const row: Row = { tr, patient, created, status, sms, identity, join, resend, end, current: c };
    join.addEventListener('click', () => {
      if (join.getAttribute('aria-disabled') !== 'true') this.actions.join(row.current, join);
    });
    resend.addEventListener('click', () => {
      if (resend.getAttribute('aria-disabled') !== 'true') this.actions.resend(row.current, resend);
    });
    end.addEventListener('click', () => {
      if (end.getAttribute('aria-disabled') !== 'true') this.actions.end(row.current, end);
    });
    return row;
  }

  private fill(row: Row, c: ConsultationSummary, now: number): void {
    row.current = c;
    const focused = row.tr.contains(document.activeElement) ? (document.activeElement as HTMLElement) : null;

    if (row.created.dateTime !== c.createdAt) {
      row.created.dateTime = c.createdAt;
      row.created.textContent = clock(c.createdAt);
    }
    const words = statusWords(c, now);
    setText(row.status, words.text);
    const badge = `console-badge console-badge--${words.tone}`;
    if (row.status.className !== badge) row.status.className = badge;
    row.tr.classList.toggle('console-row--waiting', words.tone === 'waiting');
    const identityText = identityWords(c);
    setText(row.identity, identityText ?? '');
    row.identity.hidden = identityText === undefined;
    const delivery = deliveryWords(c);
    setText(row.sms, delivery?.text ?? '');
    row.sms.hidden = !delivery;
    row.sms.classList.toggle('console-sms--failed', delivery?.failed === true);

    const may = (right: Permission) => this.rights.includes(right);
    row.join.hidden = !may('consultation.join') || isClosed(c);
    // A new link only helps before the patient is in: the service refuses it during a call.
    row.resend.hidden = !may('consultation.resend') || !(c.status === 'created' || (c.status === 'waiting' && c.waitingSince === null));
    row.end.hidden = !may('consultation.end') || isClosed(c);

    if (focused && focused.closest('[hidden]')) row.patient.focus();
  }
}
