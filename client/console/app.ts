/**
 * The clinician's console: sign in once with the practice API key (kept in this tab's
 * sessionStorage), then see today's consultations live (a poll every 2 seconds: simple, and it
 * works through any proxy), create one from a phone number, re-send a link, end one, and be
 * alerted when a patient starts waiting.
 *
 *   signed out --(key accepted)--> signed in --(401 from any call, or Sign out)--> signed out
 */
import { ApiError, ConsoleApi, type ConsultationSummary } from './api.js';
import { byId, fieldError, focusOn } from './dom.js';
import { Poller } from './poller.js';
import { apiKey, clinicianLinks, clinicianName } from './storage.js';
import { ConsultationTable } from './table.js';
import { Tone } from './tone.js';
import { WaitingAlert } from './waiting-alert.js';
import { patientLabel } from './words.js';

const POLL_MS = 2000;

/** Midnight today, local time: "today" as the clinician means it. */
function startOfToday(): Date {
  const d = new Date();
  d.setHours(0, 0, 0, 0);
  return d;
}

type Problem = 'connection' | 'action';

export class ConsoleApp {
  private api: ConsoleApi | undefined;
  private readonly poller = new Poller(() => this.poll(), POLL_MS);
  private latest: ConsultationSummary[] = [];
  private readonly tone = new Tone();
  private readonly alert = new WaitingAlert(byId('waiting-alert'), this.tone, document.title);
  private readonly table = new ConsultationTable(byId<HTMLTableSectionElement>('list-body'), byId('list-empty'), {
    videoLink: (c, button) => void this.videoLink(c, button),
    resend: (c, button) => void this.resend(c, button),
    end: (c, button) => void this.end(c, button),
  });
  private problemKind: Problem | undefined;
  private creating = false;

  /** Diagnostics for support staff and automated checks. */
  readonly diagnostics = { tones: (): number => this.tone.played };

  start(): void {
    byId<HTMLFormElement>('signin-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.signIn();
    });
    byId<HTMLFormElement>('new-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.create();
    });
    byId('sign-out').addEventListener('click', () => this.signOut(''));

    const key = apiKey.get();
    if (key) this.enter(new ConsoleApi(key), false);
    else this.showSignIn('');
  }

  // --- signing in and out ---------------------------------------------------------------

  private showSignIn(message: string): void {
    byId('view-console').hidden = true;
    byId('sign-out').hidden = true;
    byId('view-signin').hidden = false;
    const input = byId<HTMLInputElement>('api-key');
    fieldError(input, message);
    input.value = '';
    input.focus();
  }

  private async signIn(): Promise<void> {
    const input = byId<HTMLInputElement>('api-key');
    const button = byId<HTMLButtonElement>('signin-button');
    const key = input.value.trim();
    if (!key) {
      fieldError(input, 'Enter the practice API key.');
      input.focus();
      return;
    }
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    fieldError(input, '');
    const api = new ConsoleApi(key);
    try {
      const list = await api.list(startOfToday());
      apiKey.set(key);
      input.value = '';
      this.enter(api, true, list);
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(0, 'unknown', 'Something went wrong. Please try again.');
      fieldError(input, e.status === 401 ? 'That key was not accepted. Check the practice API key and try again.' : e.message);
      input.focus();
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  private enter(api: ConsoleApi, moveFocus: boolean, list?: ConsultationSummary[]): void {
    this.api = api;
    byId('view-signin').hidden = true;
    byId('view-console').hidden = false;
    byId('sign-out').hidden = false;
    const clinician = byId<HTMLInputElement>('clinician-name');
    if (!clinician.value) clinician.value = clinicianName.get();
    if (list) this.show(list);
    if (moveFocus) focusOn(byId('view-console').querySelector('h1') as HTMLElement);
    this.poller.start();
  }

  /** Forgets the key (and the clinician links) and asks for the key again. */
  private signOut(message: string): void {
    this.poller.stop();
    this.api = undefined;
    apiKey.clear();
    if (!message) clinicianLinks.clear();
    this.latest = [];
    this.table.update([], Date.now());
    this.alert.clear();
    this.say('');
    this.problem(undefined, '');
    byId('created').hidden = true;
    this.showSignIn(message);
  }

  /** Every call ends here on failure: a 401 means the key is no longer accepted. */
  private failed(err: unknown, kind: Problem): void {
    const e = err instanceof ApiError ? err : new ApiError(0, 'unknown', 'Something went wrong. Please try again.');
    if (e.status === 401) {
      this.signOut('Your sign-in was not accepted any more. Enter the practice API key again.');
      return;
    }
    this.problem(kind, kind === 'connection'
      ? `The list could not be updated: ${e.message} We will keep trying.`
      : e.message);
  }

  // --- the list -------------------------------------------------------------------------

  private async poll(): Promise<void> {
    const api = this.api;
    if (!api) return;
    try {
      const list = await api.list(startOfToday());
      if (api !== this.api) return; // signed out meanwhile
      this.show(list);
      if (this.problemKind === 'connection') this.problem(undefined, '');
    } catch (err) {
      if (api === this.api) this.failed(err, 'connection');
    }
  }

  private show(list: ConsultationSummary[]): void {
    this.latest = list;
    this.table.update(list, Date.now());
    this.alert.update(list);
  }

  // --- actions --------------------------------------------------------------------------

  private async create(): Promise<void> {
    const api = this.api;
    if (!api || this.creating) return;
    const phone = byId<HTMLInputElement>('patient-phone');
    const name = byId<HTMLInputElement>('patient-name');
    const clinician = byId<HTMLInputElement>('clinician-name');
    for (const input of [phone, name, clinician]) fieldError(input, '');
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
    };
    this.creating = true;
    const button = byId<HTMLButtonElement>('new-button');
    button.setAttribute('aria-disabled', 'true');
    this.say('Creating the consultation and sending the link…');
    try {
      const created = await api.create(input);
      clinicianLinks.set(created.id, created.clinicianUrl);
      clinicianName.set(input.clinicianName ?? '');
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
      this.poller.kick();
    } catch (err) {
      this.say('');
      if (err instanceof ApiError && err.code === 'validation_failed') {
        const field = err.message.startsWith('patientName') ? name : err.message.startsWith('clinicianName') ? clinician : phone;
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
    this.alert.rerender(this.latest);
  }

  private async videoLink(c: ConsultationSummary, button: HTMLButtonElement): Promise<void> {
    const api = this.api;
    if (!api) return;
    button.setAttribute('aria-disabled', 'true');
    try {
      clinicianLinks.set(c.id, await api.clinicianLink(c.id));
      this.table.refresh(c.id, Date.now());
      this.alert.rerender(this.latest);
      this.say(`Video link ready for ${patientLabel(c)}: choose "Open video".`);
      // The new link replaces the button: put focus on it.
      button.closest('td')?.querySelector<HTMLAnchorElement>('a.console-open')?.focus();
    } catch (err) {
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
