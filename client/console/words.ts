/** What the console says about a consultation, in plain English. Pure functions of the data. */
import type { ConsultationSummary } from './api.js';

/** The colour a status is shown in: a class suffix in app.css (`.console-badge--<tone>`). */
export type StatusTone = 'sent' | 'failed' | 'waiting' | 'call' | 'closed' | 'missed';

export function clock(iso: string): string {
  return new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
}

export function minutesSince(iso: string, now: number): string {
  const minutes = Math.max(0, Math.floor((now - Date.parse(iso)) / 60_000));
  return minutes < 1 ? 'under 1 min' : `${minutes} min`;
}

/** How the patient is named on screen: their name, else their masked number. */
export function patientLabel(c: Pick<ConsultationSummary, 'patientName' | 'patientPhone'>): string {
  if (c.patientName) return c.patientName;
  if (c.patientPhone) return `Patient ${c.patientPhone}`;
  return 'Patient';
}

export function isClosed(c: Pick<ConsultationSummary, 'status'>): boolean {
  return c.status === 'ended' || c.status === 'expired';
}

export type WaitingConsultation = ConsultationSummary & { waitingSince: string };

/** Someone (the patient, or a guest during a call) is in the waiting room right now. */
export function isWaiting(c: ConsultationSummary): c is WaitingConsultation {
  return c.waitingSince !== null && !isClosed(c);
}

export function statusWords(c: ConsultationSummary, now: number): { text: string; tone: StatusTone } {
  switch (c.status) {
    case 'created':
      if (c.sms === 'failed') return { text: 'Text message failed', tone: 'failed' };
      if (c.sms === 'unknown') return { text: 'Text message may not have arrived', tone: 'failed' };
      if (c.sms === 'sent') return { text: 'Link sent', tone: 'sent' };
      return { text: 'Sending link…', tone: 'sent' };
    case 'waiting':
      if (c.waitingSince) return { text: `Waiting since ${clock(c.waitingSince)} (${minutesSince(c.waitingSince, now)})`, tone: 'waiting' };
      return { text: 'Patient left the waiting room', tone: 'sent' };
    case 'in_call':
      if (c.waitingSince) return { text: `In call, someone waiting since ${clock(c.waitingSince)}`, tone: 'waiting' };
      return { text: 'In call', tone: 'call' };
    case 'ended':
      if (c.endedReason === 'room_empty') return { text: 'Ended (everyone left)', tone: 'closed' };
      if (c.endedReason === 'call_time_limit') return { text: 'Ended (time limit reached)', tone: 'closed' };
      return { text: 'Ended', tone: 'closed' };
    case 'expired':
      if (c.endedReason === 'waiting_timeout') return { text: 'Expired (patient waited too long)', tone: 'missed' };
      if (c.endedReason === 'link_expired') return { text: 'Expired (link not used)', tone: 'closed' };
      return { text: 'Expired', tone: 'closed' };
  }
}

/** Said beside the status when the patient's date-of-birth check locked their link (issue #18). */
export function identityWords(c: Pick<ConsultationSummary, 'identity'>): string | undefined {
  return c.identity === 'failed' ? 'Identity check failed' : undefined;
}

/** The line in the phone-me-instead alert banner (issue #18). */
export function callbackLine(c: ConsultationSummary): string {
  return `${patientLabel(c)} asked to be phoned instead`;
}

/** The line in the waiting alert banner. */
export function waitingLine(c: ConsultationSummary): string {
  const who = patientLabel(c);
  return c.status === 'in_call' ? `Someone is waiting to join the call with ${who}` : `${who} is waiting`;
}

/**
 * What became of the patient's text, in words the receptionist can act on, while it matters (the
 * patient has not opened the link): undefined when there is nothing to say (outbox, or no id).
 */
export function deliveryWords(c: Pick<ConsultationSummary, 'status' | 'smsDelivery'>): { text: string; failed: boolean } | undefined {
  const d = c.smsDelivery;
  if (!d || c.status !== 'created') return undefined;
  switch (d.status) {
    case 'sending': return { text: `Text sent ${clock(d.at)}, not delivered yet`, failed: false };
    case 'delivered': return { text: `Text delivered ${clock(d.at)}`, failed: false };
    case 'permanent_failure': return { text: 'Text not delivered: check the number', failed: true };
    case 'temporary_failure': return { text: 'Text not delivered yet: the phone may be off. Phone the patient', failed: true };
    case 'technical_failure': return { text: 'Text not delivered: the text service failed. Re-send the link', failed: true };
  }
}
