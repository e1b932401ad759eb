/**
 * The console of a signed-in member of staff: who they are and their practice, today's
 * consultations live (theirs or everyone's; a poll every 2 seconds: simple, and it works through
 * any proxy), a form to create one, and per row what they may do: join (clinicians, in a new
 * tab), re-send a link, end; and an alert when a patient starts waiting. Nobody types a key:
 * the sign-in is the session cookie, and a page without one (or whose session ended) goes to
 * the sign-in page, which brings them back (./signed-in.ts).
 *
 *   loading --(GET /me)--> signed in --(401 from any call, or Sign out)--> sign-in page
 */
import type { Permission } from '../../server/auth/permissions.js';
import { ApiError, ConsoleApi, type ConsultationSummary, type Owner } from './api.js';
import { byId, fieldError } from './dom.js';
import { Poller } from './poller.js';
import { signedIn, toSignIn } from './signed-in.js';
import { ownerChoice } from './storage.js';
import { ConsultationTable } from './table.js';
import { Tone } from './tone.js';
import { WaitingAlert } from './waiting-alert.js';
import { CallbackAlert } from './callback-alert.js';
import { patientLabel } from './words.js';

const POLL_MS = 2000;

/** Midnight today, local time: "today" as the clinician means it. */
function startOfToday(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

type Problem = 'connection' | 'action';

const unknownError = () => new ApiError(0, 'unknown', 'Something went wrong. Please try again.');

export class ConsoleApp {
  private api: ConsoleApi | undefined;
  private owner: Owner = 'everyone';
  private readonly poller = new Poller(() => this.poll(), POLL_MS);
  private readonly tone = new Tone();
  private alert: WaitingAlert | undefined;
  private callbackAlert: CallbackAlert | undefined;
  private table: ConsultationTable | undefined;
  private problemKind: Problem | undefined;
  private creating = false;
  private leaving = false;

  /** Diagnostics for support staff and automated checks. */
  readonly diagnostics = { tones: (): number => this.tone.played };

  start(): void {
    void this.load();
  }

  // --- who is signed in -----------------------------------------------------------------

  private async load(): Promise<void> {
    const signed = await signedIn('/console');
    if (!signed) return;
    const { me } = signed;
    this.api = new ConsoleApi(signed.http);
    const may = (right: Permission) => me.rights.includes(right);
    const join = may('consultation.join') ? (c: ConsultationSummary, b: HTMLButtonElement) => void this.join(c, b) : undefined;
    this.alert = new WaitingAlert(byId('waiting-alert'), this.tone, document.title, join);
    this.callbackAlert = new CallbackAlert(byId('callback-alert'), this.tone,
      may('consultation.resend') ? (c, b) => void this.callbackDone(c, b) : undefined);
    this.table = new ConsultationTable(byId<HTMLTableSectionElement>('list-body'), byId('list-empty'), {
      join: (c, button) => void this.join(c, button),
      resend: (c, button) => void this.resend(c, button),
      end: (c, button) => void this.end(c, button),
    }, me.rights);

    const isClinician = me.user?.roles.includes('clinician') ?? false;
    byId('admin-link').hidden = !may('practice.manage');
    byId('sign-out').addEventListener('click', () => this.stop());
    // Leaving the page: no poll may answer 401 meanwhile and send the browser elsewhere.
    window.addEventListener('beforeunload', () => this.stop());

    byId('new-panel').hidden = !may('consultation.create');
    byId<HTMLFormElement>('new-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.create();
    });
    const clinician = byId<HTMLInputElement>('clinician-name');
    if (isClinician && me.user) {
      clinician.value = me.user.displayName;
    } else {
      byId('clinician-name-label').textContent = "Clinician's name (optional)";
    }

    this.owner = ownerChoice.get() ?? (isClinician ? 'me' : 'everyone');
    for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="owner"]')) {
      radio.checked = radio.value === this.owner;
      radio.addEventListener('change', () => {
        if (!radio.checked || (radio.value !== 'me' && radio.value !== 'everyone')) return;
        this.owner = radio.value;
        ownerChoice.set(this.owner);
        this.showCaption();
        this.poller.kick();
      });
    }
    this.showCaption();
    byId('view-loading').hidden = true;
    byId('view-console').hidden = false;
    this.poller.start();
  }

  private showCaption(): void {
    byId('list-caption').textContent = this.owner === 'me' ? 'My consultations today, newest first' : "Everyone's consultations today, newest first";
  }

  /** No more polls: the page is leaving (signing out, or its sign-in is over). */
  private stop(): void {
    this.leaving = true;
    this.poller.stop();
  }

  private toSignIn(): void {
    if (this.leaving) return;
    this.stop();
    toSignIn('/console');
  }

  /** Every call ends here on failure: a 401 means the sign-in is over. */
  private failed(err: unknown, kind: Problem): void {
    const e = err instanceof ApiError ? err : unknownError();
    if (e.status === 401) {
      this.toSignIn();
      return;
    }
    this.problem(kind, kind === 'connection'
      ? `The list could not be updated: ${e.message} We will keep trying.`
      : e.message);
  }

  // --- the list -------------------------------------------------------------------------

  private async poll(): Promise<void> {
    const api = this.api;
    if (!api || this.leaving) return;
    const owner = this.owner;
    try {
      const list = await api.list(startOfToday(), owner);
      if (owner !== this.owner) return; // the choice changed meanwhile: the next poll shows it
      this.show(list);
      if (this.problemKind === 'connection') this.problem(undefined, '');
    } catch (err) {
      this.failed(err, 'connection');
    }
  }

  private show(list: ConsultationSummary[]): void {
    this.table?.update(list, Date.now());
    this.alert?.update(list);
    this.callbackAlert?.update(list);
  }

  /** Someone phoned the patient who asked to be phoned instead (issue #18). */
  private async callbackDone(c: ConsultationSummary, button: HTMLButtonElement): Promise<void> {
    const api = this.api;
    if (!api) return;
    button.setAttribute('aria-disabled', 'true');
    try {
      await api.callbackDone(c.id);
      this.say(`Marked as phoned: ${patientLabel(c)}.`);
      this.poller.kick();
    } catch (err) {
      button.removeAttribute('aria-disabled');
      this.failed(err, 'action');
    }
  }

  // --- actions --------------------------------------------------------------------------

  private async create(): Promise<void> {
    const api = this.api;
    if (!api || this.creating) return;
    const phone = byId<HTMLInputElement>('patient-phone');
    const name = byId<HTMLInputElement>('patient-name');
    const clinician = byId<HTMLInputElement>('clinician-name');
    const dob = byId<HTMLInputElement>('patient-dob');
    for (const input of [phone, name, clinician, dob]) fieldError(input, '');
    byId('new-error').textContent = '';
    if (!phone.value.trim()) {
      fieldError(phone, "Enter the patient's mobile number.");
      phone.focus();
      return;
    }
    const input = {
      patientPhone: phone.value.trim(),
      ...(name.value.trim() ? { patientName: name.value.trim() } : {}),
      ...(clinician.value.trim() ? { clinicianName: clinician.value.trim() } : {}),
      ...(dob.value ? { patientDateOfBirth: dob.value } : {}),
    };
    this.creating = true;
    const button = byId<HTMLButtonElement>('new-button');
    button.setAttribute('aria-disabled', 'true');
    this.say('Creating the consultation and sending the link…');
    try {
      const created = await api.create(input);
      const who = input.patientName ?? 'the patient';
      this.showCreated(created.clinicianUrl, created.sms === 'sent'
        ? `Link sent to ${who} (${input.patientPhone}).`
        : `Consultation created, but the text message to ${input.patientPhone} could not be sent.`, input.patientName);
      if (created.sms === 'sent') this.say(`Consultation created. Link sent to ${who}.`);
      else {
        this.say('');
        this.problem('action', `The text message to ${input.patientPhone} could not be sent. Check the number, then use "Re-send link" in the list.`);
      }
      phone.value = '';
      name.value = '';
      dob.value = '';
      this.poller.kick();
    } catch (err) {
      this.say('');
      if (err instanceof ApiError && err.code === 'validation_failed') {
        const field = err.message.startsWith('patientName') ? name : err.message.startsWith('clinicianName') ? clinician
          : /date ?of ?birth/i.test(err.message) ? dob : phone;
        fieldError(field, err.message);
        field.focus();
      } else if (err instanceof ApiError && err.status === 401) {
        this.failed(err, 'action');
      } else {
        byId('new-error').textContent = err instanceof ApiError ? err.message : 'Something went wrong. Please try again.';
      }
    } finally {
      this.creating = false;
      button.removeAttribute('aria-disabled');
    }
  }

  private showCreated(url: string, message: string, patientName: string | undefined): void {
    byId('created-message').textContent = message;
    byId<HTMLInputElement>('created-url').value = url;
    const open = byId<HTMLAnchorElement>('created-open');
    open.href = url;
    const hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = ` with ${patientName ?? 'the patient'}`;
    open.replaceChildren('Open video', hidden);
    byId('created').hidden = false;
  }

  /** The clinician joins: the call opens in a new tab, with their name shown to the patient. */
  private async join(c: ConsultationSummary, button: HTMLButtonElement): Promise<void> {
    const api = this.api;
    if (!api) return;
    button.setAttribute('aria-disabled', 'true');
    // Opened now, while the click still counts as the person's: a tab opened after an await may be blocked.
    const tab = window.open('', '_blank');
    try {
      const url = await api.join(c.id);
      this.say(`Joining the video consultation with ${patientLabel(c)} in a new tab.`);
      if (tab) {
        tab.opener = null;
        tab.location.href = url;
      } else {
        window.location.assign(url);
      }
    } catch (err) {
      tab?.close();
      this.failed(err, 'action');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  private async resend(c: ConsultationSummary, button: HTMLButtonElement): Promise<void> {
    const api = this.api;
    if (!api) return;
    const who = patientLabel(c);
    button.setAttribute('aria-disabled', 'true');
    this.say(`Re-sending the link to ${who}…`);
    try {
      const result = await api.resend(c.id);
      if (result.sms === 'sent') {
        this.say(`Link re-sent to ${who}. The earlier link no longer works.`);
        if (this.problemKind === 'action') this.problem(undefined, '');
      } else {
        this.say('');
        this.problem('action', `The text message to ${who} could not be sent. Check the number, or try again later.`);
      }
      this.poller.kick();
    } catch (err) {
      this.say('');
      this.failed(err, 'action');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  private async end(c: ConsultationSummary, button: HTMLButtonElement): Promise<void> {
    const api = this.api;
    if (!api) return;
    const who = patientLabel(c);
    if (!window.confirm(`End the consultation with ${who}? Anyone in the call will be disconnected, and the link will stop working.`)) return;
    button.setAttribute('aria-disabled', 'true');
    try {
      await api.end(c.id);
      this.say(`The consultation with ${who} has ended.`);
      this.poller.kick();
    } catch (err) {
      this.failed(err, 'action');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  // --- messages -------------------------------------------------------------------------

  /** A status message, read out politely by screen readers. */
  private say(message: string): void {
    byId('console-status').textContent = message;
  }

  /** A problem (role=alert); `undefined` clears it. */
  private problem(kind: Problem | undefined, message: string): void {
    this.problemKind = kind;
    byId('console-problem').textContent = kind ? message : '';
  }
}
