/**
 * What the service keeps, and the store interfaces per concern (design.md 2.3). Every method
 * returns a promise, so a shared store (PostgreSQL) can implement the same interfaces; the SQLite
 * implementation is in ./sqlite/. A method that must be atomic says so: callers rely on it rather
 * than on a read followed by a write.
 */
import type { LinkRefusal } from '../auth/links.js';
import type { ConsultationStatus } from '../consultations/lifecycle.js';
import type { Role } from '../consultations/participant.js';
import type { EndReason, SmsStatus } from '../../signalling/vocabulary.js';

export interface ConsultationRecord {
  id: string;
  status: ConsultationStatus;
  createdAt: number;
  updatedAt: number;
  expiresAt: number;
  endedReason: EndReason | null;
  patientPhone: string | null;
  patientName: string | null;
  clinicianName: string | null;
  smsStatus?: SmsStatus | null;
}

export type { SmsStatus } from '../../signalling/vocabulary.js';

/** Lifecycle timers, stored so they survive restarts (design.md 2.2). */
export type DeadlineKind = 'link_expiry' | 'waiting_timeout' | 'call_warning' | 'call_limit' | 'empty_room' | 'reconnect';

export interface Deadline {
  consultationId: string;
  kind: DeadlineKind;
  /** '' unless the deadline is about one participant (reconnect). */
  participantId: string;
  dueAt: number;
}

export interface ParticipantRecord {
  id: string;
  consultationId: string;
  role: Role;
  displayName: string | null;
  admittedAt?: number | null;
  /** Sessions issued before the latest revocation (an earlier epoch) are refused. */
  sessionEpoch?: number;
}

export interface LinkRecord {
  codeHash: string;
  consultationId: string;
  participantId: string;
  expiresAt: number;
  redeemedAt: number | null;
  revokedAt: number | null;
}

export interface AuditEvent {
  seq: number;
  consultationId: string;
  at: number;
  /** A role or `api`/`system`, never a person's name. */
  actor: string;
  type: string;
  detail: Record<string, unknown> | null;
}

/** `closed`: the consultation has ended or expired; the link was left unused, so it keeps saying why. */
export type RedeemResult =
  | { ok: true; link: LinkRecord; role: Role; epoch: number }
  | { ok: false; reason: 'not_found' | 'closed' | LinkRefusal };

/** Consultations and their participants. */
export interface ConsultationStore {
  /** The consultation, its participants and their links, atomically. */
  createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[]): Promise<void>;
  getConsultation(id: string): Promise<ConsultationRecord | undefined>;
  /** Compare-and-set: moves status only if it is still `from`. Resolves to whether it moved. */
  setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): Promise<boolean>;
  /** Consultations created since `since` (epoch ms), newest first. */
  listConsultations(since: number): Promise<ConsultationRecord[]>;
  listByStatus(status: ConsultationStatus): Promise<ConsultationRecord[]>;
  /** How many consultations are in each status. */
  countByStatus(): Promise<Partial<Record<ConsultationStatus, number>>>;
  setExpiresAt(id: string, at: number): Promise<void>;
  setSmsStatus(id: string, status: SmsStatus): Promise<void>;
  getParticipant(id: string): Promise<ParticipantRecord | undefined>;
  listParticipants(consultationId: string): Promise<ParticipantRecord[]>;
  /** A participant and their first link, atomically. */
  addParticipant(p: ParticipantRecord, link: LinkRecord, at: number): Promise<void>;
  /** Keeps the first admission time. */
  markAdmitted(participantId: string, at: number): Promise<void>;
}

/** One-time links (only their hashes). */
export interface LinkStore {
  findLink(codeHash: string): Promise<LinkRecord | undefined>;
  /**
   * Consumes a link exactly once, atomically, and only while its consultation is open
   * (the rules of auth/links.ts); a refusal uses nothing up and names why.
   */
  redeemLink(codeHash: string, now: number): Promise<RedeemResult>;
  /** Adds a link for a participant and revokes every earlier one of theirs, atomically. */
  replaceLink(link: LinkRecord, at: number): Promise<void>;
  /**
   * Ends every session of a participant issued so far (bumps their epoch) and their admission,
   * and with `revoke` their unused links too, atomically.
   */
  revokeSessions(participantId: string, at: number, links: 'keep' | 'revoke'): Promise<void>;
}

/** Durable lifecycle timers, one per (consultation, kind, participant). */
export interface DeadlineStore {
  /** Sets or moves the deadline. */
  setDeadline(d: Deadline): Promise<void>;
  clearDeadlines(consultationId: string, kind?: DeadlineKind, participantId?: string): Promise<void>;
  /** The earliest pending deadline. */
  nextDeadline(): Promise<Deadline | undefined>;
  /** Removes and returns the deadlines due at `now` or before, earliest first, atomically: each is taken once. */
  takeDueDeadlines(now: number): Promise<Deadline[]>;
  deadlinesOf(consultationId: string): Promise<Deadline[]>;
}

/** The append-only audit log. */
export interface AuditStore {
  appendEvent(e: Omit<AuditEvent, 'seq'>): Promise<void>;
  listEvents(consultationId: string): Promise<AuditEvent[]>;
  /** When the consultation last moved to `status` (from the audit log), if it did. */
  statusSince(consultationId: string, status: ConsultationStatus): Promise<number | undefined>;
  /**
   * Every event of the consultations whose `created` event is at or after `from` and before `to`
   * (epoch ms), in order (by consultation, then seq): what a weekly report counts.
   */
  eventsOfCreatedBetween(from: number, to: number): Promise<AuditEvent[]>;
}

/** Deleting personal data once it is no longer needed (design.md: retention). */
export interface RetentionStore {
  /**
   * Deletes the phone numbers and names of consultations that ended or expired before
   * `endedBefore`, once each, keeping the rows, their status and the audit log; writes a
   * `personal_data_deleted` audit event for each, atomically. Resolves to the ids it cleared.
   */
  deletePersonalData(endedBefore: number, at: number, detail?: Record<string, unknown>): Promise<string[]>;
  /** Whether a consultation's personal data has been deleted (false for an unknown id). */
  personalDataDeleted(consultationId: string): Promise<boolean>;
}

/** The store as a whole. */
export interface StoreLifecycle {
  /** Leaves what was written self-contained (SQLite: the write-ahead log into the file), before a stop or after a purge. */
  checkpoint(): Promise<void>;
  /** Releases the store; nothing may use it afterwards. */
  close(): Promise<void>;
}

export interface Store extends ConsultationStore, LinkStore, DeadlineStore, AuditStore, RetentionStore, StoreLifecycle {}
