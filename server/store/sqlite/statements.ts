/**
 * Every SQL statement of the SQLite store, prepared once per database. better-sqlite3 runs each
 * synchronously, so each one is atomic; several in one `db.transaction` are too.
 */
import { consultationStatuses, isTerminal } from '../../consultations/lifecycle.js';
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import type { Db } from '../db.js';
import type { ConsultationRow, ConsumedRow, DeadlineRow, EventRow, LinkRow, ParticipantRow } from './rows.js';

/** `'ended', 'expired'`: the lifecycle's terminal states, as an SQL list (constants, not input). */
const TERMINAL = consultationStatuses.filter(isTerminal).map((s) => `'${s}'`).join(', ');

export type LinkStateRow = LinkRow & { consultation_status: ConsultationStatus };

export function prepareStatements(db: Db) {
  return {
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
    countByStatus: db.prepare<[], { status: ConsultationStatus; n: number }>('SELECT status, COUNT(*) AS n FROM consultations GROUP BY status'),
    setExpiresAt: db.prepare('UPDATE consultations SET expires_at = @at WHERE id = @id'),
    setSmsStatus: db.prepare('UPDATE consultations SET sms_status = @status WHERE id = @id'),
    markAdmitted: db.prepare('UPDATE participants SET admitted_at = COALESCE(admitted_at, @at) WHERE id = @id'),

    // The conditions of auth/links.ts (not used, not revoked, not expired) and an open consultation.
    // The session epoch is read in the same statement: a revocation cannot fall between the two.
    consumeLink: db.prepare<{ hash: string; now: number }, ConsumedRow>(`UPDATE links SET redeemed_at = @now
      WHERE code_hash = @hash AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > @now
        AND (SELECT status FROM consultations c WHERE c.id = links.consultation_id) NOT IN (${TERMINAL})
      RETURNING *, (SELECT role FROM participants p WHERE p.id = links.participant_id) AS role,
        (SELECT session_epoch FROM participants p WHERE p.id = links.participant_id) AS epoch`),
    getLink: db.prepare<[string], LinkStateRow>(`SELECT l.*, p.role AS role, c.status AS consultation_status FROM links l
      JOIN participants p ON p.id = l.participant_id JOIN consultations c ON c.id = l.consultation_id WHERE l.code_hash = ?`),
    revokeLinks: db.prepare('UPDATE links SET revoked_at = @at WHERE participant_id = @pid AND revoked_at IS NULL'),
    // Admission belongs to the sessions it was granted to: it goes with them.
    revokeSessions: db.prepare('UPDATE participants SET session_epoch = session_epoch + 1, admitted_at = NULL WHERE id = @pid'),

    setDeadline: db.prepare(`INSERT INTO deadlines (consultation_id, kind, participant_id, due_at)
      VALUES (@consultationId, @kind, @participantId, @dueAt)
      ON CONFLICT (consultation_id, kind, participant_id) DO UPDATE SET due_at = excluded.due_at`),
    clearDeadlines: db.prepare(`DELETE FROM deadlines WHERE consultation_id = @cid
      AND (@kind IS NULL OR kind = @kind) AND (@pid IS NULL OR participant_id = @pid)`),
    nextDeadline: db.prepare<[], DeadlineRow>('SELECT * FROM deadlines ORDER BY due_at LIMIT 1'),
    dueDeadlines: db.prepare<[number], DeadlineRow>('SELECT * FROM deadlines WHERE due_at <= ? ORDER BY due_at'),
    deleteDue: db.prepare<[number]>('DELETE FROM deadlines WHERE due_at <= ?'),
    deadlinesOf: db.prepare<[string], DeadlineRow>('SELECT * FROM deadlines WHERE consultation_id = ? ORDER BY due_at'),

    insertEvent: db.prepare(`INSERT INTO events (consultation_id, at, actor, type, detail)
      VALUES (@consultationId, @at, @actor, @type, @detail)`),
    listEvents: db.prepare<[string], EventRow>('SELECT * FROM events WHERE consultation_id = ? ORDER BY seq'),
    statusSince: db.prepare<{ id: string; status: string }, { at: number }>(`SELECT at FROM events
      WHERE consultation_id = @id AND type = 'status' AND json_extract(detail, '$.to') = @status ORDER BY seq DESC LIMIT 1`),
    eventsOfCreatedBetween: db.prepare<{ from: number; to: number }, EventRow>(`SELECT * FROM events WHERE consultation_id IN
      (SELECT consultation_id FROM events WHERE type = 'created' AND at >= @from AND at < @to) ORDER BY consultation_id, seq`),

    toDelete: db.prepare<{ before: number }, { id: string }>(`SELECT id FROM consultations
      WHERE status IN (${TERMINAL}) AND updated_at < @before AND personal_data_deleted_at IS NULL`),
    clearConsultation: db.prepare(`UPDATE consultations SET patient_phone = NULL, patient_name = NULL, clinician_name = NULL,
      personal_data_deleted_at = @at WHERE id = @id`),
    clearParticipants: db.prepare('UPDATE participants SET display_name = NULL WHERE consultation_id = @id'),
    isDeleted: db.prepare<[string], { d: number | null }>('SELECT personal_data_deleted_at AS d FROM consultations WHERE id = ?'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
