/**
 * Consultations: creation (with its links and the patient's SMS), link redemption and status
 * changes. Each change goes through the lifecycle table, is stored compare-and-set, written to
 * the audit log and announced, so the signalling layer can act on changes made through the API.
 */
import { EventEmitter } from 'node:events';
import { hashCode, newCode, newId } from '../auth/codes.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { invitationText } from '../sms/message.js';
import { normaliseUkMobile } from '../sms/phone.js';
import type { SmsProvider } from '../sms/provider.js';
import { linkError, linkRefusal } from '../auth/links.js';
import type {
  AuditEvent, AuditStore, ConsultationRecord, ConsultationStore, LinkRecord, LinkStore, ParticipantRecord, PracticeRecord, PracticeStore, SmsStatus,
} from '../store/store.js';
import type { PrincipalActor } from '../auth/principal.js';
import { NotifyError } from '../sms/notify.js';
import type { DeliveryReceipts } from '../sms/receipts.js';
import { type CloseReason, type ConsultationStatus, isTerminal, transition } from './lifecycle.js';
import type { Role } from './participant.js';
import type { LifecycleTimes } from './timekeeper.js';
import type { Session } from '../auth/session.js';
import { checkedDateOfBirth, newIdentityRecord } from './identity.js';

export interface CreateInput {
  patientPhone: string;
  patientName?: string | undefined;
  clinicianName?: string | undefined;
  /** YYYY-MM-DD: the patient confirms it before joining (./identity.ts); kept only as a salted hash. */
  patientDateOfBirth?: string | undefined;
}

/** Whose consultation it is: the practice that holds it, and the staff member it is for, if any. */
export interface Holder {
  practice: PracticeRecord;
  owner?: { userId: string; displayName: string } | undefined;
  /** The owner is the one creating it, signed in: the clinician link goes to them, so the clinician is them. */
  ownerIsCreator?: boolean;
}

export interface Created {
  id: string;
  status: ConsultationStatus;
  clinicianUrl: string;
  expiresAt: string;
  sms: SmsStatus;
  /** Why the SMS failed, in words a receptionist can act on. */
  smsError?: string;
}

export interface Redeemed {
  consultationId: string;
  participantId: string;
  role: Role;
  linkHash: string;
  epoch: number;
}

export interface StatusChange {
  id: string;
  from: ConsultationStatus;
  to: ConsultationStatus;
  reason?: CloseReason | undefined;
}

interface ConsultationEvents {
  statusChanged: [StatusChange];
  /** A consultation's links now expire at `expiresAt` (created, or a link re-sent). */
  expiryChanged: [{ id: string; expiresAt: number }];
  /** Every session of this participant so far was revoked (link re-sent, or removed): they go. */
  sessionsRevoked: [{ id: string; participantId: string }];
}

export interface ConsultationDeps {
  store: ConsultationStore & LinkStore & AuditStore & Pick<PracticeStore, 'getPractice'>;
  sms: SmsProvider;
  logger: Logger;
  now: () => number;
  linkTtlSeconds: number;
  /** Base of every link; a function because it may be known only once the server listens. */
  publicUrl: () => string;
  /** Guests one consultation may have (each invitation may send an SMS); default 5. */
  inviteLimit?: number;
  /** The timers that bound how long a consultation can stay open, and so its sessions. */
  times: Pick<LifecycleTimes, 'waitingTimeout' | 'maxCallDuration'>;
  /** Follows the delivery of each patient's text the provider gave an id for (server/sms/receipts.ts). */
  deliveries?: Pick<DeliveryReceipts, 'sent'>;
}

/** Said for any use of a consultation that has ended or expired. */
const closedError = () =>
  new AppError('consultation_closed', 'This consultation has ended. Contact the practice if you still need to speak to them.');

/** Said for a session that was revoked (a new link was sent, or its holder removed). */
const revokedError = () =>
  new AppError('unauthorized', 'This link or session is no longer valid: the practice has sent a new link or closed your place. Ask the practice if you still need to join.');

/** Who did something, for the audit log: a key or user by id, a participant's role or the system, never a name. */
export type Actor = Role | PrincipalActor | 'system';

export class Consultations extends EventEmitter<ConsultationEvents> {
  private readonly inviting = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: ConsultationDeps) {
    super();
  }

  linkUrl(code: string): string {
    return `${this.deps.publicUrl()}/j/${code}`;
  }

  async create(input: CreateInput, actor: Actor, holder: Holder): Promise<Created> {
    const phone = normaliseUkMobile(input.patientPhone);
    if (!phone.ok) throw new AppError('validation_failed', phone.message);
    const now = this.deps.now();
    const dateOfBirth = input.patientDateOfBirth === undefined ? undefined : checkedDateOfBirth(input.patientDateOfBirth, now);
    const expiresAt = now + this.deps.linkTtlSeconds * 1000;
    // The clinician's name is theirs as the practice knows them, unless the request names someone.
    const clinicianName = input.clinicianName ?? holder.owner?.displayName ?? null;
    const consultation: ConsultationRecord = {
      id: newId(), practiceId: holder.practice.id, ownerUserId: holder.owner?.userId ?? null,
      status: 'created', createdAt: now, updatedAt: now, expiresAt, endedReason: null,
      patientPhone: phone.e164, patientName: input.patientName ?? null, clinicianName,
    };
    const patient: ParticipantRecord = { id: newId(), consultationId: consultation.id, role: 'patient', displayName: input.patientName ?? null };
    const clinician: ParticipantRecord = {
      id: newId(), consultationId: consultation.id, role: 'clinician', displayName: clinicianName,
      userId: holder.ownerIsCreator ? holder.owner?.userId ?? null : null,
    };
    const patientCode = newCode();
    const clinicianCode = newCode();
    const link = (p: ParticipantRecord, code: string): LinkRecord => ({
      codeHash: hashCode(code), consultationId: consultation.id, participantId: p.id, expiresAt, redeemedAt: null, revokedAt: null,
    });
    const created = { expiresAt, ...(holder.owner ? { owner: holder.owner.userId } : {}) };
    // The `created` event (reports count it) and the link's expiry come into being with it, or not at all.
    await this.deps.store.createConsultation(consultation, [patient, clinician], [link(patient, patientCode), link(clinician, clinicianCode)], {
      events: [{ consultationId: consultation.id, at: now, actor, type: 'created', detail: created }],
      deadlines: [{ consultationId: consultation.id, kind: 'link_expiry', participantId: '', dueAt: expiresAt }],
      ...(dateOfBirth ? { identity: await newIdentityRecord(consultation.id, dateOfBirth, now) } : {}),
    });
    this.deps.logger.info({ consultationId: consultation.id, actor, event: 'created', ...created }, 'consultation event');
    this.emit('expiryChanged', { id: consultation.id, expiresAt });

    const sent = await this.sendInvitation(consultation.id, phone.e164, patientCode, holder.practice);
    return {
      id: consultation.id, status: consultation.status, clinicianUrl: this.linkUrl(clinicianCode),
      expiresAt: new Date(expiresAt).toISOString(), sms: sent.status, ...(sent.error ? { smsError: sent.error } : {}),
    };
  }

  /** A new link for the patient (the earlier ones stop working), sent by SMS; the expiry restarts. */
  async resend(id: string, actor: Actor): Promise<{ sms: SmsStatus; smsError?: string; expiresAt: string }> {
    const c = await this.ensureOpen(id);
    if (c.status === 'in_call') throw new AppError('invalid_state', 'The patient is already in the call.');
    const patient = (await this.participants(id)).find((p) => p.role === 'patient');
    if (!patient || !c.patientPhone) throw new AppError('invalid_state', 'This consultation has no patient phone number.');
    const now = this.deps.now();
    const expiresAt = now + this.deps.linkTtlSeconds * 1000;
    const code = newCode();
    await this.deps.store.replaceLink({
      codeHash: hashCode(code), consultationId: id, participantId: patient.id, expiresAt, redeemedAt: null, revokedAt: null,
    }, now);
    // The earlier links stop working, and so do the sessions they gave (README: Security).
    await this.deps.store.revokeSessions(patient.id, now, 'keep');
    this.emit('sessionsRevoked', { id, participantId: patient.id });
    await this.deps.store.setExpiresAt(id, expiresAt);
    await this.audit(id, actor, 'link_resent', { expiresAt });
    if (c.status === 'created') this.emit('expiryChanged', { id, expiresAt });
    const sent = await this.sendInvitation(id, c.patientPhone, code, await this.practiceOf(c));
    return { sms: sent.status, ...(sent.error ? { smsError: sent.error } : {}), expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * A fresh link for the clinician (their earlier links stop working; sessions already open stay).
   * For a console opened in another tab or browser than the one that created the consultation.
   */
  async clinicianLink(id: string, actor: Actor): Promise<{ clinicianUrl: string; expiresAt: string }> {
    const c = await this.ensureOpen(id);
    const clinician = (await this.participants(id)).find((p) => p.role === 'clinician');
    if (!clinician) throw new AppError('invalid_state', 'This consultation has no clinician.');
    const now = this.deps.now();
    const expiresAt = Math.max(c.expiresAt, now + this.deps.linkTtlSeconds * 1000);
    const code = newCode();
    await this.deps.store.replaceLink({
      codeHash: hashCode(code), consultationId: id, participantId: clinician.id, expiresAt, redeemedAt: null, revokedAt: null,
    }, now);
    await this.audit(id, actor, 'clinician_link_issued');
    return { clinicianUrl: this.linkUrl(code), expiresAt: new Date(expiresAt).toISOString() };
  }

  /**
   * Adds a third participant (interpreter, carer, colleague) with a role label. They wait to be
   * admitted like the patient. Returns their link; sends it by SMS when a phone number is given.
   */
  /** Invitations of one consultation are made one after another, so its limit holds for a burst too. */
  invite(id: string, input: { label: string; name?: string | undefined; phone?: string | undefined }, actor: Actor) {
    const mine = (this.inviting.get(id) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.addGuest(id, input, actor));
    this.inviting.set(id, mine);
    mine.finally(() => this.inviting.get(id) === mine && this.inviting.delete(id)).catch(() => undefined);
    return mine;
  }

  private async addGuest(id: string, input: { label: string; name?: string | undefined; phone?: string | undefined }, actor: Actor) {
    await this.ensureOpen(id);
    const phone = input.phone === undefined ? undefined : normaliseUkMobile(input.phone);
    if (phone && !phone.ok) throw new AppError('validation_failed', phone.message);
    const now = this.deps.now();
    const c = await this.get(id);
    const limit = this.deps.inviteLimit ?? 5;
    const guests = (await this.participants(id)).filter((p) => p.role === 'guest').length;
    if (guests >= limit) throw new AppError('rate_limited', `This consultation has had its ${limit} invitations.`);
    const guest: ParticipantRecord = {
      id: newId(), consultationId: id, role: 'guest',
      displayName: input.name ? `${input.name} (${input.label})` : input.label,
    };
    const code = newCode();
    await this.deps.store.addParticipant(guest, {
      codeHash: hashCode(code), consultationId: id, participantId: guest.id, expiresAt: Math.max(c.expiresAt, now + this.deps.linkTtlSeconds * 1000),
      redeemedAt: null, revokedAt: null,
    }, now);
    // The label is free text ("Mrs Smith's daughter"): personal data, like a name, so not audited.
    await this.audit(id, actor, 'guest_invited', { participantId: guest.id });
    let sms: SmsStatus | 'not_sent' = 'not_sent';
    if (phone?.ok) sms = (await this.sendInvitation(id, phone.e164, code, await this.practiceOf(c), false)).status;
    return { participantId: guest.id, url: this.linkUrl(code), sms };
  }

  /** A practice's consultations created since `since`; only those of `owner` if given. */
  list(practiceId: string, since: number, owner?: string): Promise<ConsultationRecord[]> {
    return this.deps.store.listConsultations(practiceId, since, owner);
  }

  /**
   * The consultation if `practiceId` holds it. Another practice's consultation is answered
   * exactly as one that does not exist: ids are not secrets, and a refusal would confirm one.
   */
  async getIn(practiceId: string, id: string): Promise<ConsultationRecord> {
    const c = await this.deps.store.getConsultation(id);
    if (!c || c.practiceId !== practiceId) throw new AppError('consultation_not_found', 'There is no consultation with that id.');
    return c;
  }

  private async practiceOf(c: ConsultationRecord): Promise<PracticeRecord> {
    const practice = await this.deps.store.getPractice(c.practiceId);
    if (!practice) throw new Error(`consultation ${c.id} names no practice`);
    return practice;
  }

  find(id: string): Promise<ConsultationRecord | undefined> {
    return this.deps.store.getConsultation(id);
  }

  async get(id: string): Promise<ConsultationRecord> {
    const c = await this.deps.store.getConsultation(id);
    if (!c) throw new AppError('consultation_not_found', 'There is no consultation with that id.');
    return c;
  }

  participants(id: string): Promise<ParticipantRecord[]> {
    return this.deps.store.listParticipants(id);
  }

  participant(id: string): Promise<ParticipantRecord | undefined> {
    return this.deps.store.getParticipant(id);
  }

  /** Whether `code` would redeem now; looks, uses nothing up. */
  async linkUsable(code: string): Promise<boolean> {
    const link = await this.deps.store.findLink(hashCode(code));
    return link !== undefined && linkRefusal(link, this.deps.now()) === undefined && await this.isOpen(link.consultationId);
  }

  /**
   * Who a participant's acts are audited as: the signed-in clinician they are, by user id, or
   * else their role (a patient, a guest, a clinician who came by a link from the practice system).
   */
  async actorOf(participantId: string, role: Role): Promise<Actor> {
    const p = await this.deps.store.getParticipant(participantId);
    return p?.userId ? `user:${p.userId}` : role;
  }

  /** Whether the consultation exists and has not ended or expired. */
  async isOpen(id: string): Promise<boolean> {
    const c = await this.deps.store.getConsultation(id);
    return c !== undefined && !isTerminal(c.status);
  }

  /** Consumes a one-time link. Throws link_not_found / link_used / link_expired / consultation_closed. */
  async redeem(code: string): Promise<Redeemed> {
    const linkHash = hashCode(code);
    // One store call checks and consumes: the consultation cannot end between the two. A link to
    // a consultation that is over is refused without being used up, so it keeps saying why.
    const result = await this.deps.store.redeemLink(linkHash, this.deps.now());
    if (!result.ok) throw result.reason === 'closed' ? closedError() : linkError(result.reason);
    const { consultationId, participantId } = result.link;
    await this.audit(consultationId, result.role, 'link_redeemed', { participantId });
    return { consultationId, participantId, role: result.role, linkHash, epoch: result.epoch };
  }

  /**
   * The consultation of a session that may still be used: open, and not revoked since it was
   * issued. Throws consultation_closed or unauthorized. Checked at the socket handshake and on resume.
   */
  async checkSession(s: Session): Promise<ConsultationRecord> {
    const c = await this.ensureOpen(s.consultationId);
    const p = await this.deps.store.getParticipant(s.participantId);
    if (!p || p.consultationId !== s.consultationId || (p.sessionEpoch ?? 0) !== s.epoch) throw revokedError();
    return c;
  }

  /**
   * How long (ms) the consultation can still be open, from its own deadlines: a link used late
   * still has its wait and its call ahead; a call ends at its limit. Its sessions last that long.
   */
  async timeLeft(c: ConsultationRecord): Promise<number> {
    const now = this.deps.now();
    const wait = this.deps.times.waitingTimeout * 1000;
    const call = this.deps.times.maxCallDuration * 1000;
    const since = async (status: ConsultationStatus) => (await this.deps.store.statusSince(c.id, status)) ?? now;
    switch (c.status) {
      case 'created':
        return c.expiresAt + wait + call - now;
      case 'waiting':
        return (await since('waiting')) + wait + call - now;
      case 'in_call':
        return (await since('in_call')) + call - now;
      case 'ended':
      case 'expired':
        return 0;
    }
  }

  /**
   * The clinician removes someone (patient or guest): every session and link of theirs is
   * revoked with their admission, and they are disconnected. Coming back needs a new link.
   */
  async remove(id: string, participantId: string, actor: Actor): Promise<void> {
    await this.ensureOpen(id);
    const p = await this.deps.store.getParticipant(participantId);
    if (!p || p.consultationId !== id) throw new AppError('participant_not_found', 'That person is not part of this consultation.');
    if (p.role === 'clinician') throw new AppError('invalid_state', 'The clinician cannot be removed; end the consultation instead.');
    await this.deps.store.revokeSessions(participantId, this.deps.now(), 'revoke');
    this.emit('sessionsRevoked', { id, participantId });
    await this.audit(id, actor, 'removed', { participantId, role: p.role });
  }

  /** A patient or guest is in the waiting room: `created` becomes `waiting` (other states stay). */
  async markWaiting(id: string, actor: Actor): Promise<void> {
    const c = await this.get(id);
    if (c.status === 'created') await this.move(c, 'waiting', actor);
  }

  /** Admission starts the call: `waiting` becomes `in_call`; admitting into a running call is fine. */
  async startCall(id: string, actor: Actor): Promise<void> {
    const c = await this.get(id);
    if (c.status === 'in_call') return;
    await this.move(c, 'in_call', actor);
  }

  /** Ends a consultation for everyone. Idempotent for an ended one; an expired one stays expired. */
  async end(id: string, actor: Actor, reason: CloseReason): Promise<ConsultationRecord> {
    const c = await this.get(id);
    if (c.status === 'ended') return c;
    // Not read back: the ended consultation's sockets close once this handler has answered, so
    // nothing after the move may wait on the store (a shared store answers after that).
    return this.move(c, 'ended', actor, reason);
  }

  /** A timer ran out before the call started: `created`/`waiting` become `expired`. */
  async expire(id: string, reason: 'link_expired' | 'waiting_timeout'): Promise<void> {
    const c = await this.get(id);
    if (c.status === 'expired') return;
    await this.move(c, 'expired', 'system', reason);
  }

  /** Admission is remembered, so after a reconnect or a restart the participant skips the waiting room. */
  markAdmitted(participantId: string): Promise<void> {
    return this.deps.store.markAdmitted(participantId, this.deps.now());
  }

  async ensureOpen(id: string): Promise<ConsultationRecord> {
    const c = await this.get(id);
    if (isTerminal(c.status)) throw closedError();
    return c;
  }

  async audit(consultationId: string, actor: Actor, type: string, detail?: Record<string, unknown>): Promise<void> {
    await this.deps.store.appendEvent({ consultationId, at: this.deps.now(), actor, type, detail: detail ?? null });
    this.deps.logger.info({ consultationId, actor, event: type, ...detail }, 'consultation event');
  }

  async events(id: string): Promise<AuditEvent[]> {
    await this.get(id);
    return this.deps.store.listEvents(id);
  }

  private async sendInvitation(
    consultationId: string, to: string, code: string, practice: PracticeRecord, isPatient = true,
  ): Promise<{ status: SmsStatus; error?: string }> {
    const link = this.linkUrl(code);
    try {
      const sent = await this.deps.sms.send({
        to, consultationId, body: invitationText(practice.name, link),
        personalisation: { practice_name: practice.name, link }, templateId: practice.notifyTemplateId ?? undefined,
      });
      await this.audit(consultationId, 'system', 'sms_sent', { provider: this.deps.sms.name });
      if (isPatient) await this.deps.store.setSmsStatus(consultationId, 'sent');
      // The text went: not knowing its delivery yet is no reason to say it failed.
      if (isPatient && sent?.notificationId) {
        await this.deps.deliveries?.sent(consultationId, sent.notificationId)
          .catch((err: unknown) => this.deps.logger.warn({ consultationId, err: (err as Error).message }, 'SMS delivery not followed'));
      }
      return { status: 'sent' };
    } catch (err) {
      const status: SmsStatus = err instanceof NotifyError && err.kind === 'unknown_outcome' ? 'unknown' : 'failed';
      // Provider errors are written to be shown (no number, no text); anything else is not.
      const error = err instanceof AppError ? err.message : 'The text message could not be sent.';
      this.deps.logger.error({ consultationId, err: (err as Error).message }, 'invitation SMS failed');
      await this.audit(consultationId, 'system', status === 'unknown' ? 'sms_unknown' : 'sms_failed', { provider: this.deps.sms.name, reason: error });
      if (isPatient) await this.deps.store.setSmsStatus(consultationId, status);
      return { status, error };
    }
  }

  /** Resolves to the record as the move left it. */
  private async move(c: ConsultationRecord, to: ConsultationStatus, actor: Actor, reason?: CloseReason): Promise<ConsultationRecord> {
    transition(c.status, to);
    const at = this.deps.now();
    if (!(await this.deps.store.setStatus(c.id, c.status, to, at, reason))) {
      // Someone else moved it first: report against what it is now.
      const now = await this.get(c.id);
      throw new AppError('invalid_state', `The consultation is already ${now.status}.`);
    }
    await this.audit(c.id, actor, 'status', { from: c.status, to, ...(reason ? { reason } : {}) });
    this.emit('statusChanged', { id: c.id, from: c.status, to, reason });
    return { ...c, status: to, updatedAt: at, endedReason: reason ?? c.endedReason };
  }
}
