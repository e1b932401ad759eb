/**
 * Persistence for consultations, participants, links and the audit log. A small interface so a
 * shared store (design.md 2.3) can be added beside the SQLite one later.
 */
import type { Db } from './db.js';
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

/** Why a link cannot be redeemed at `now` (the consume query's conditions), or undefined if it can. */
export function linkRefusal(link: LinkRecord, now: number): 'used' | 'expired' | undefined {
  if (link.redeemedAt !== null || link.revokedAt !== null) return 'used';
  if (link.expiresAt <= now) return 'expired';
  return undefined;
}

export type RedeemResult =
  | { ok: true; link: LinkRecord; role: Role }
  | { ok: false; reason: 'not_found' | 'used' | 'expired' };

export interface Store {
  createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[]): void;
  getConsultation(id: string): ConsultationRecord | undefined;
  /** Compare-and-set: moves status only if it is still `from`. Returns whether it moved. */
  setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): boolean;
  getParticipant(id: string): ParticipantRecord | undefined;
  listParticipants(consultationId: string): ParticipantRecord[];
  findLink(codeHash: string): LinkRecord | undefined;
  /** Consumes a link exactly once, atomically. */
  redeemLink(codeHash: string, now: number): RedeemResult;
  /** Consultations created since `since` (epoch ms), newest first. */
  listConsultations(since: number): ConsultationRecord[];
  listByStatus(status: ConsultationStatus): ConsultationRecord[];
  setExpiresAt(id: string, at: number): void;
  setSmsStatus(id: string, status: SmsStatus): void;
  addParticipant(p: ParticipantRecord, link: LinkRecord, at: number): void;
  markAdmitted(participantId: string, at: number): void;
  /** Adds a link for a participant and revokes every earlier one of theirs, atomically. */
  replaceLink(link: LinkRecord, at: number): void;
  setDeadline(d: Deadline): void;
  clearDeadlines(consultationId: string, kind?: DeadlineKind, participantId?: string): void;
  listDeadlines(): Deadline[];
  /** The earliest pending deadline (one row, by index). */
  nextDeadline(): Deadline | undefined;
  /** Deadlines due at `now` or before, earliest first. */
  dueDeadlines(now: number): Deadline[];
  deadlinesOf(consultationId: string): Deadline[];
  appendEvent(e: Omit<AuditEvent, 'seq'>): void;
  listEvents(consultationId: string): AuditEvent[];
  /** When the consultation last moved to `status` (from the audit log), if it did. */
  statusSince(consultationId: string, status: ConsultationStatus): number | undefined;
  /** How many consultations are in each status. */
  countByStatus(): Partial<Record<ConsultationStatus, number>>;
  /**
   * Deletes the phone numbers and names of consultations that ended or expired before
   * `endedBefore`, once each, keeping the rows, their status and the audit log; writes a
   * `personal_data_deleted` audit event for each. Returns the ids it cleared.
   */
  deletePersonalData(endedBefore: number, at: number, detail?: Record<string, unknown>): string[];
  /** Whether a consultation's personal data has been deleted (false for an unknown id). */
  personalDataDeleted(consultationId: string): boolean;
  /** Writes the write-ahead log into the database file (before a stop, after a purge). */
  checkpoint(): void;
  close(): void;
}

interface ConsultationRow {
  id: string; status: ConsultationStatus; created_at: number; updated_at: number; expires_at: number;
  ended_reason: EndReason | null; patient_phone: string | null; patient_name: string | null; clinician_name: string | null;
  sms_status: SmsStatus | null;
}
interface ParticipantRow { id: string; consultation_id: string; role: Role; display_name: string | null; admitted_at: number | null }
const toParticipant = (r: ParticipantRow): ParticipantRecord => ({
  id: r.id, consultationId: r.consultation_id, role: r.role, displayName: r.display_name, admittedAt: r.admitted_at,
});
interface LinkRow {
  code_hash: string; consultation_id: string; participant_id: string; expires_at: number;
  redeemed_at: number | null; revoked_at: number | null; role: Role;
}

interface DeadlineRow { consultation_id: string; kind: DeadlineKind; participant_id: string; due_at: number }
const toDeadline = (r: DeadlineRow): Deadline => ({
  consultationId: r.consultation_id, kind: r.kind, participantId: r.participant_id, dueAt: r.due_at,
});
const toConsultation = (r: ConsultationRow): ConsultationRecord => ({
  id: r.id, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at,
  endedReason: r.ended_reason, patientPhone: r.patient_phone, patientName: r.patient_name, clinicianName: r.clinician_name,
  smsStatus: r.sms_status,
});
const toLink = (r: LinkRow): LinkRecord => ({
  codeHash: r.code_hash, consultationId: r.consultation_id, participantId: r.participant_id,
  expiresAt: r.expires_at, redeemedAt: r.redeemed_at, revokedAt: r.revoked_at,
});

export class SqliteStore implements Store {
  private readonly q;

  constructor(private readonly db: Db) {
    // Statements are prepared once; better-sqlite3 runs them synchronously, so each is atomic.
    this.q = {
      insertConsultation: db.prepare(`INSERT INTO consultations
        (id, status, created_at, updated_at, expires_at, ended_reason, patient_phone, patient_name, clinician_name, sms_status)
        VALUES (@id, @status, @createdAt, @updatedAt, @expiresAt, @endedReason, @patientPhone, @patientName, @clinicianName, @smsStatus)`),
      insertParticipant: db.prepare(`INSERT INTO participants (id, consultation_id, role, display_name, created_at)
        VALUES (@id, @consultationId, @role, @displayName, @createdAt)`),
      insertLink: db.prepare(`INSERT INTO links (code_hash, consultation_id, participant_id, created_at, expires_at)
        VALUES (@codeHash, @consultationId, @participantId, @createdAt, @expiresAt)`),
      getConsultation: db.prepare<[string], ConsultationRow>('SELECT * FROM consultations WHERE id = ?'),
      setStatus: db.prepare(`UPDATE consultations SET status = @to, updated_at = @at,
        ended_reason = COALESCE(@reason, ended_reason) WHERE id = @id AND status = @from`),
      getParticipant: db.prepare<[string], ParticipantRow>('SELECT * FROM participants WHERE id = ?'),
      listParticipants: db.prepare<[string], ParticipantRow>('SELECT * FROM participants WHERE consultation_id = ? ORDER BY created_at, rowid'),
      listSince: db.prepare<[number], ConsultationRow>('SELECT * FROM consultations WHERE created_at >= ? ORDER BY created_at DESC LIMIT 500'),
      listByStatus: db.prepare<[string], ConsultationRow>('SELECT * FROM consultations WHERE status = ?'),
      setExpiresAt: db.prepare('UPDATE consultations SET expires_at = @at WHERE id = @id'),
      setSmsStatus: db.prepare('UPDATE consultations SET sms_status = @status WHERE id = @id'),
      markAdmitted: db.prepare('UPDATE participants SET admitted_at = COALESCE(admitted_at, @at) WHERE id = @id'),
      revokeLinks: db.prepare('UPDATE links SET revoked_at = @at WHERE participant_id = @pid AND revoked_at IS NULL'),
      setDeadline: db.prepare(`INSERT INTO deadlines (consultation_id, kind, participant_id, due_at)
        VALUES (@consultationId, @kind, @participantId, @dueAt)
        ON CONFLICT (consultation_id, kind, participant_id) DO UPDATE SET due_at = excluded.due_at`),
      clearDeadlines: db.prepare(`DELETE FROM deadlines WHERE consultation_id = @cid
        AND (@kind IS NULL OR kind = @kind) AND (@pid IS NULL OR participant_id = @pid)`),
      listDeadlines: db.prepare<[], DeadlineRow>('SELECT * FROM deadlines ORDER BY due_at'),
      nextDeadline: db.prepare<[], DeadlineRow>('SELECT * FROM deadlines ORDER BY due_at LIMIT 1'),
      dueDeadlines: db.prepare<[number], DeadlineRow>('SELECT * FROM deadlines WHERE due_at <= ? ORDER BY due_at'),
      deadlinesOf: db.prepare<[string], DeadlineRow>('SELECT * FROM deadlines WHERE consultation_id = ? ORDER BY due_at'),
      consumeLink: db.prepare<{ hash: string; now: number }, LinkRow>(`UPDATE links SET redeemed_at = @now
        WHERE code_hash = @hash AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > @now
        RETURNING *, (SELECT role FROM participants p WHERE p.id = links.participant_id) AS role`),
      getLink: db.prepare<[string], LinkRow>(`SELECT l.*, p.role AS role FROM links l
        JOIN participants p ON p.id = l.participant_id WHERE l.code_hash = ?`),
      insertEvent: db.prepare(`INSERT INTO events (consultation_id, at, actor, type, detail)
        VALUES (@consultationId, @at, @actor, @type, @detail)`),
      listEvents: db.prepare<[string], { seq: number; consultation_id: string; at: number; actor: string; type: string; detail: string | null }>(
        'SELECT * FROM events WHERE consultation_id = ? ORDER BY seq'),
      statusSince: db.prepare<{ id: string; status: string }, { at: number }>(`SELECT at FROM events
        WHERE consultation_id = @id AND type = 'status' AND json_extract(detail, '$.to') = @status ORDER BY seq DESC LIMIT 1`),
      countByStatus: db.prepare<[], { status: ConsultationStatus; n: number }>('SELECT status, COUNT(*) AS n FROM consultations GROUP BY status'),
      toDelete: db.prepare<{ before: number }, { id: string }>(`SELECT id FROM consultations
        WHERE status IN ('ended', 'expired') AND updated_at < @before AND personal_data_deleted_at IS NULL`),
      clearConsultation: db.prepare(`UPDATE consultations SET patient_phone = NULL, patient_name = NULL, clinician_name = NULL,
        personal_data_deleted_at = @at WHERE id = @id`),
      clearParticipants: db.prepare('UPDATE participants SET display_name = NULL WHERE consultation_id = @id'),
      isDeleted: db.prepare<[string], { d: number | null }>('SELECT personal_data_deleted_at AS d FROM consultations WHERE id = ?'),
    };
  }

  createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[]): void {
    this.db.transaction(() => {
      this.q.insertConsultation.run({ ...c, smsStatus: c.smsStatus ?? null });
      for (const p of participants) {
        this.q.insertParticipant.run({ id: p.id, consultationId: p.consultationId, role: p.role, displayName: p.displayName, createdAt: c.createdAt });
      }
      for (const l of links) this.q.insertLink.run({ ...l, createdAt: c.createdAt });
    })();
  }

  getConsultation(id: string): ConsultationRecord | undefined {
    const row = this.q.getConsultation.get(id);
    return row && toConsultation(row);
  }

  setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): boolean {
    return this.q.setStatus.run({ id, from, to, at, reason: reason ?? null }).changes === 1;
  }

  getParticipant(id: string): ParticipantRecord | undefined {
    const r = this.q.getParticipant.get(id);
    return r && toParticipant(r);
  }

  listParticipants(consultationId: string): ParticipantRecord[] {
    return this.q.listParticipants.all(consultationId).map(toParticipant);
  }

  listConsultations(since: number): ConsultationRecord[] {
    return this.q.listSince.all(since).map(toConsultation);
  }

  listByStatus(status: ConsultationStatus): ConsultationRecord[] {
    return this.q.listByStatus.all(status).map(toConsultation);
  }

  setExpiresAt(id: string, at: number): void {
    this.q.setExpiresAt.run({ id, at });
  }

  setSmsStatus(id: string, status: SmsStatus): void {
    this.q.setSmsStatus.run({ id, status });
  }

  addParticipant(p: ParticipantRecord, link: LinkRecord, at: number): void {
    this.db.transaction(() => {
      this.q.insertParticipant.run({ id: p.id, consultationId: p.consultationId, role: p.role, displayName: p.displayName, createdAt: at });
      this.q.insertLink.run({ ...link, createdAt: at });
    })();
  }

  markAdmitted(participantId: string, at: number): void {
    this.q.markAdmitted.run({ id: participantId, at });
  }

  replaceLink(link: LinkRecord, at: number): void {
    this.db.transaction(() => {
      this.q.revokeLinks.run({ pid: link.participantId, at });
      this.q.insertLink.run({ ...link, createdAt: at });
    })();
  }

  setDeadline(d: Deadline): void {
    this.q.setDeadline.run(d);
  }

  clearDeadlines(consultationId: string, kind?: DeadlineKind, participantId?: string): void {
    this.q.clearDeadlines.run({ cid: consultationId, kind: kind ?? null, pid: participantId ?? null });
  }

  listDeadlines(): Deadline[] {
    return this.q.listDeadlines.all().map(toDeadline);
  }

  nextDeadline(): Deadline | undefined {
    const r = this.q.nextDeadline.get();
    return r && toDeadline(r);
  }

  dueDeadlines(now: number): Deadline[] {
    return this.q.dueDeadlines.all(now).map(toDeadline);
  }

  deadlinesOf(consultationId: string): Deadline[] {
    return this.q.deadlinesOf.all(consultationId).map(toDeadline);
  }

  findLink(codeHash: string): LinkRecord | undefined {
    const row = this.q.getLink.get(codeHash);
    return row && toLink(row);
  }

  redeemLink(codeHash: string, now: number): RedeemResult {
    const consumed = this.q.consumeLink.get({ hash: codeHash, now });
    if (consumed) return { ok: true, link: toLink(consumed), role: consumed.role };
    const existing = this.q.getLink.get(codeHash);
    if (!existing) return { ok: false, reason: 'not_found' };
    return { ok: false, reason: linkRefusal(toLink(existing), now) ?? 'expired' };
  }

  appendEvent(e: Omit<AuditEvent, 'seq'>): void {
    this.q.insertEvent.run({ ...e, detail: e.detail ? JSON.stringify(e.detail) : null });
  }

  listEvents(consultationId: string): AuditEvent[] {
    return this.q.listEvents.all(consultationId).map((r) => ({
      seq: r.seq, consultationId: r.consultation_id, at: r.at, actor: r.actor, type: r.type,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
    }));
  }

  statusSince(consultationId: string, status: ConsultationStatus): number | undefined {
    return this.q.statusSince.get({ id: consultationId, status })?.at;
  }

  countByStatus(): Partial<Record<ConsultationStatus, number>> {
    return Object.fromEntries(this.q.countByStatus.all().map((r) => [r.status, r.n]));
  }

  deletePersonalData(endedBefore: number, at: number, detail?: Record<string, unknown>): string[] {
    // Freed bytes are overwritten with zeros, so deleted numbers and names do not linger in the file.
    this.db.pragma('secure_delete = ON');
    return this.db.transaction(() => {
      const ids = this.q.toDelete.all({ before: endedBefore }).map((r) => r.id);
      for (const id of ids) {
        this.q.clearConsultation.run({ id, at });
        this.q.clearParticipants.run({ id });
        this.appendEvent({ consultationId: id, at, actor: 'system', type: 'personal_data_deleted', detail: detail ?? null });
      }
      return ids;
    })();
  }

  personalDataDeleted(consultationId: string): boolean {
    return (this.q.isDeleted.get(consultationId)?.d ?? null) !== null;
  }

  checkpoint(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  close(): void {
    this.db.close();
  }
}
