/**
 * What the service keeps, and the store interfaces per concern (design.md 2.3). Every method
 * returns a promise, so a shared store (PostgreSQL) can implement the same interfaces; the SQLite
 * implementation is in ./sqlite/. A method that must be atomic says so: callers rely on it rather
 * than on a read followed by a write.
 */
import type { LinkRefusal } from '../auth/links.js';
import type { ConsultationStatus } from '../consultations/lifecycle.js';
import type { Role } from '../consultations/participant.js';
import type { EndReason, PracticeStatus, SmsStatus, StaffRole, UserStatus } from '../../signalling/vocabulary.js';
import type { IdentityState } from '../../signalling/vocabulary.js';
import type { SmsDelivery } from '../../signalling/vocabulary.js';

export interface ConsultationRecord {
  id: string;
  /** The practice that holds it: only that practice's keys and people see it. */
  practiceId: string;
  /** The staff member it is for (the clinician who started it, or the one the API named), if any. */
  ownerUserId?: string | null;
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
  /** The staff member this clinician is, when they started or joined it signed in: what they do is audited as theirs. */
  userId?: string | null;
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
  practiceId: string;
  at: number;
  /**
   * Who: `user:<id>`, `key:<id>`, a participant's role or `system` (before version 5 also `api`),
   * never a person's name or e-mail.
   */
  actor: string;
  type: string;
  detail: Record<string, unknown> | null;
}

/** `closed`: the consultation has ended or expired; the link was left unused, so it keeps saying why. */
export type RedeemResult =
  | { ok: true; link: LinkRecord; role: Role; epoch: number }
  | { ok: false; reason: 'not_found' | 'closed' | LinkRefusal };

/** Written with a new consultation, in the same transaction. */
export interface FirstRecords {
  events?: Omit<AuditEvent, 'seq' | 'practiceId'>[];
  deadlines?: Deadline[];
  /** The patient's identity check, when the practice gave their date of birth. */
  identity?: IdentityRecord;
}

/** Consultations and their participants. */
export interface ConsultationStore {
  /**
   * The consultation, its participants and their links, atomically, with what must exist from its
   * first moment (its `created` audit event, its link-expiry deadline): a failure half-way leaves nothing.
   */
  createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[], first?: FirstRecords): Promise<void>;
  getConsultation(id: string): Promise<ConsultationRecord | undefined>;
  /** Compare-and-set: moves status only if it is still `from`. Resolves to whether it moved. */
  setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): Promise<boolean>;
  /** A practice's consultations created since `since` (epoch ms), newest first; only `owner`'s if given. */
  listConsultations(practiceId: string, since: number, owner?: string): Promise<ConsultationRecord[]>;
  listByStatus(status: ConsultationStatus): Promise<ConsultationRecord[]>;
  /** How many consultations are in each status. */
  countByStatus(): Promise<Partial<Record<ConsultationStatus, number>>>;
  setExpiresAt(id: string, at: number): Promise<void>;
  setSmsStatus(id: string, status: SmsStatus): Promise<void>;
  /** A signed-in clinician joining from the console becomes its clinician: their name is shown, their acts audited as theirs, atomically. */
  assignClinician(id: string, clinician: { userId: string; displayName: string }): Promise<void>;
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
  /** Appends an event; without `practiceId` it is the consultation's practice's. */
  appendEvent(e: Omit<AuditEvent, 'seq' | 'practiceId'> & { practiceId?: string }): Promise<void>;
  listEvents(consultationId: string): Promise<AuditEvent[]>;
  /** When the consultation last moved to `status` (from the audit log), if it did. */
  statusSince(consultationId: string, status: ConsultationStatus): Promise<number | undefined>;
  /**
   * Every event of the consultations whose `created` event is at or after `from` and before `to`
   * (epoch ms), in order (by consultation, then seq): what a weekly report counts.
   */
  eventsOfCreatedBetween(from: number, to: number, practiceId?: string): Promise<AuditEvent[]>;
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

export interface PracticeRecord {
  id: string;
  /** The NHS ODS code (e.g. A81001): how operators and reports name the practice. */
  odsCode: string;
  /** As the patient's SMS names it. */
  name: string;
  /** A GOV.UK Notify template of the practice's own wording, instead of the deployment's. */
  notifyTemplateId: string | null;
  status: PracticeStatus;
  createdAt: number;
}

export interface UserRecord {
  id: string;
  practiceId: string;
  /** Unique in the deployment (case-insensitive): what an invitation and a sign-in are matched by. */
  email: string;
  displayName: string;
  roles: StaffRole[];
  status: UserStatus;
  /** The identity provider's `sub`, bound at the first OpenID Connect sign-in. */
  oidcSubject: string | null;
  /** A local account's password hash (server/staff/password.ts), or null. */
  passwordHash: string | null;
  /** A local account's TOTP secret (base32), or null. */
  totpSecret: string | null;
  /** The last TOTP time step accepted, so a code works once. */
  lastTotpStep: number | null;
  failedLogins: number;
  lockedUntil: number | null;
  createdAt: number;
}

/** Fields of a user that change after creation. */
export type UserPatch = Partial<Pick<UserRecord,
  'email' | 'displayName' | 'roles' | 'status' | 'oidcSubject' | 'passwordHash' | 'totpSecret' | 'lastTotpStep' | 'failedLogins' | 'lockedUntil'>>;

/** A one-time link for an invited person to set up their account (only its hash is kept). */
export interface SetupLinkRecord {
  codeHash: string;
  userId: string;
  expiresAt: number;
  usedAt: number | null;
}

export interface ApiKeyRecord {
  id: string;
  practiceId: string;
  /** What the practice calls it ("EMIS integration"). */
  name: string;
  /** SHA-256 of the key; the key itself is shown once, at creation. */
  keyHash: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** Set when the key was rotated: it works until then, so the practice system can switch over. */
  expiresAt: number | null;
  revokedAt: number | null;
}

/** A signed-in staff member's browser session (only the hash of the cookie's value is kept). */
export interface StaffSessionRecord {
  idHash: string;
  userId: string;
  /** Sent back in `x-csrf-token` on every state-changing request made with the cookie. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute end (STAFF_SESSION_MAX); the idle end is lastSeenAt + STAFF_SESSION_IDLE. */
  expiresAt: number;
}

/** An audit line about a practice's people and keys (or, with no practice, the deployment). */
export interface PracticeEvent {
  seq: number;
  practiceId: string | null;
  at: number;
  /** `user:<id>`, `key:<id>`, `operator` or `system`: never a name or an e-mail. */
  actor: string;
  type: string;
  detail: Record<string, unknown> | null;
}

/** Practices (the operator's CLI adds and suspends them). */
export interface PracticeStore {
  addPractice(p: PracticeRecord): Promise<void>;
  getPractice(id: string): Promise<PracticeRecord | undefined>;
  findPracticeByOds(odsCode: string): Promise<PracticeRecord | undefined>;
  listPractices(): Promise<PracticeRecord[]>;
  updatePractice(id: string, patch: Partial<Pick<PracticeRecord, 'odsCode' | 'name' | 'notifyTemplateId' | 'status'>>): Promise<void>;
}

/** Staff accounts and their set-up links. */
export interface UserStore {
  /** A user and, if given, their set-up link, atomically. */
  addUser(u: UserRecord, setup?: Omit<SetupLinkRecord, 'userId' | 'usedAt'>): Promise<void>;
  getUser(id: string): Promise<UserRecord | undefined>;
  findUserByEmail(email: string): Promise<UserRecord | undefined>;
  findUserBySubject(subject: string): Promise<UserRecord | undefined>;
  listUsers(practiceId: string): Promise<UserRecord[]>;
  updateUser(id: string, patch: UserPatch, at: number): Promise<void>;
  /** A new set-up link for the user; every earlier one stops working, atomically. */
  replaceSetupLink(link: Omit<SetupLinkRecord, 'usedAt'>, at: number): Promise<void>;
  findSetupLink(codeHash: string): Promise<SetupLinkRecord | undefined>;
  /** Uses a set-up link exactly once (unused, unexpired), atomically; undefined if it would not. */
  takeSetupLink(codeHash: string, now: number): Promise<SetupLinkRecord | undefined>;
  /**
   * Counts a failed sign-in, atomically; at `max` failures the account locks until `now + lockMs`
   * and the count restarts. Resolves to the user as it is now.
   */
  recordLoginFailure(userId: string, now: number, max: number, lockMs: number): Promise<UserRecord | undefined>;
  /**
   * Compare-and-set: records TOTP time step `step` as used only if it is later than the last one
   * accepted, atomically. Resolves to whether it was, so a code works once even when two nodes
   * receive it at the same instant.
   */
  acceptTotpStep(userId: string, step: number): Promise<boolean>;
}

/** The practices' API keys. */
export interface ApiKeyStore {
  addApiKey(k: ApiKeyRecord): Promise<void>;
  /** Replaces the hash of a key with a known id, or adds it (the configured API_KEY, at each start). */
  putApiKey(k: ApiKeyRecord): Promise<void>;
  findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined>;
  getApiKey(id: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(practiceId: string): Promise<ApiKeyRecord[]>;
  touchApiKey(id: string, at: number): Promise<void>;
  revokeApiKey(id: string, at: number): Promise<void>;
  /** The key keeps working until `at` (rotation), unless it ends sooner. */
  expireApiKey(id: string, at: number): Promise<void>;
}

export interface StaffSessionStore {
  addStaffSession(s: StaffSessionRecord): Promise<void>;
  getStaffSession(idHash: string): Promise<StaffSessionRecord | undefined>;
  touchStaffSession(idHash: string, at: number): Promise<void>;
  deleteStaffSession(idHash: string): Promise<void>;
  /** Signs a user out everywhere (disabled, or their password changed). */
  deleteUserSessions(userId: string): Promise<void>;
  /** Deletes sessions past their absolute end or idle since before `idleBefore`. */
  pruneStaffSessions(now: number, idleBefore: number): Promise<number>;
}

export interface PracticeAuditStore {
  appendPracticeEvent(e: Omit<PracticeEvent, 'seq'>): Promise<void>;
  listPracticeEvents(practiceId: string): Promise<PracticeEvent[]>;
}

/** Everything about practices, their people, keys and staff sessions. */
export interface TenancyStore extends PracticeStore, UserStore, ApiKeyStore, StaffSessionStore, PracticeAuditStore {}

/** The store as a whole. */
export interface StoreLifecycle {
  /** Leaves what was written self-contained (SQLite: the write-ahead log into the file), before a stop or after a purge. */
  checkpoint(): Promise<void>;
  /** Releases the store; nothing may use it afterwards. */
  close(): Promise<void>;
}

/** A consultation's identity check: `dobHash` is null once retention has deleted it. */
export interface IdentityRecord {
  consultationId: string;
  dobHash: string | null;
  status: Exclude<IdentityState, 'not_required'>;
  failures: number;
  updatedAt: number;
}

/** The patient asked the practice to phone them instead; `doneAt` once someone marked it done. */
export interface CallbackRecord {
  consultationId: string;
  requestedAt: number;
  doneAt: number | null;
}

/** The patient's date-of-birth check (no row: none is required). */
export interface IdentityStore {
  getIdentity(consultationId: string): Promise<IdentityRecord | undefined>;
  /** The checks of these consultations (those that have one). */
  identitiesOf(consultationIds: readonly string[]): Promise<IdentityRecord[]>;
  /**
   * Records one try while the check is pending, atomically: right confirms it; wrong counts a
   * failure, and the `max`th fails it for good. Resolves to the check as it is now.
   */
  recordIdentityTry(consultationId: string, right: boolean, max: number, at: number): Promise<IdentityRecord | undefined>;
  /** Back to pending with no failures (a new link was sent), if the date is still kept. */
  resetIdentity(consultationId: string, at: number): Promise<void>;
}

/** Requests to be phoned instead of a video call: at most one pending per consultation. */
export interface CallbackStore {
  /** Adds a pending request unless one is pending, atomically; resolves to whether it added one. */
  requestCallback(consultationId: string, at: number): Promise<boolean>;
  /** Marks the pending request done; resolves to whether there was one. */
  completeCallback(consultationId: string, at: number): Promise<boolean>;
  /** The requests of these consultations (pending or done). */
  callbacksOf(consultationIds: readonly string[]): Promise<CallbackRecord[]>;
}

export interface Store extends ConsultationStore, LinkStore, DeadlineStore, AuditStore, RetentionStore, TenancyStore, StoreLifecycle,
  IdentityStore, CallbackStore {}
export interface Store extends ConsultationStore, LinkStore, DeadlineStore, AuditStore, RetentionStore, TenancyStore, StoreLifecycle {}

/** One invitation text the provider gave an id for: what became of it, and when to ask again. */
export interface SmsDeliveryRecord {
  notificationId: string;
  consultationId: string;
  sentAt: number;
  status: SmsDelivery;
  statusAt: number;
  /** When to ask the provider next; null once final or given up. */
  checkAt: number | null;
  checks: number;
}

/** Delivery receipts (server/sms/receipts.ts). */
export interface SmsDeliveryStore {
  addSmsDelivery(d: SmsDeliveryRecord): Promise<void>;
  /**
   * Records a status, atomically, unless the text already has a final one (receipts may arrive
   * out of order, or from a poll and a callback at once). Resolves to the record as it now is,
   * or undefined when the id is unknown or the text's status was already final.
   */
  setSmsDelivery(notificationId: string, status: SmsDelivery, at: number, checkAt: number | null): Promise<SmsDeliveryRecord | undefined>;
  /**
   * Takes up to `limit` texts whose check is due at `now`, moving each one's check to `leaseUntil`
   * and counting it, in one statement: two nodes never ask about the same text at once.
   */
  takeDueSmsChecks(now: number, leaseUntil: number, limit: number): Promise<SmsDeliveryRecord[]>;
  /** The latest text of each of these consultations. */
  latestSmsDeliveries(consultationIds: readonly string[]): Promise<Map<string, SmsDeliveryRecord>>;
}

// Declared apart from the list above (interfaces merge), so this concern adds one line of its own.
export interface Store extends SmsDeliveryStore {}
