/**
 * Every SQL statement of the SQLite store, prepared once per database. better-sqlite3 runs each
 * synchronously, so each one is atomic; several in one `db.transaction` are too.
 */
import type { Db } from '../db.js';
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import {
  type ApiKeyRow, type ConsultationRow, type ConsumedRow, type DeadlineRow, type EventRow, type LinkStateRow, type ParticipantRow,
  type PracticeEventRow, type PracticeRow, type SetupLinkRow, type StaffSessionRow, type UserRow, TERMINAL,
} from '../rows.js';
import type { CallbackRow, IdentityRow } from '../rows.js';
import type { SmsDeliveryRow } from '../rows.js';

export function prepareStatements(db: Db) {
  return {
    insertConsultation: db.prepare(`INSERT INTO consultations
      (id, practice_id, owner_user_id, status, created_at, updated_at, expires_at, ended_reason, patient_phone, patient_name, clinician_name, sms_status)
      VALUES (@id, @practiceId, @ownerUserId, @status, @createdAt, @updatedAt, @expiresAt, @endedReason, @patientPhone, @patientName, @clinicianName, @smsStatus)`),
    insertParticipant: db.prepare(`INSERT INTO participants (id, consultation_id, role, display_name, user_id, created_at)
      VALUES (@id, @consultationId, @role, @displayName, @userId, @createdAt)`),
    insertLink: db.prepare(`INSERT INTO links (code_hash, consultation_id, participant_id, created_at, expires_at)
      VALUES (@codeHash, @consultationId, @participantId, @createdAt, @expiresAt)`),
    getConsultation: db.prepare<[string], ConsultationRow>('SELECT * FROM consultations WHERE id = ?'),
    setStatus: db.prepare(`UPDATE consultations SET status = @to, updated_at = @at,
      ended_reason = COALESCE(@reason, ended_reason) WHERE id = @id AND status = @from`),
    getParticipant: db.prepare<[string], ParticipantRow>('SELECT * FROM participants WHERE id = ?'),
    listParticipants: db.prepare<[string], ParticipantRow>('SELECT * FROM participants WHERE consultation_id = ? ORDER BY created_at, rowid'),
    listSince: db.prepare<{ practiceId: string; since: number; owner: string | null }, ConsultationRow>(`SELECT * FROM consultations
      WHERE practice_id = @practiceId AND created_at >= @since AND (@owner IS NULL OR owner_user_id = @owner)
      ORDER BY created_at DESC LIMIT 500`),
    listByStatus: db.prepare<[string], ConsultationRow>('SELECT * FROM consultations WHERE status = ?'),
    countByStatus: db.prepare<[], { status: ConsultationStatus; n: number }>('SELECT status, COUNT(*) AS n FROM consultations GROUP BY status'),
    setExpiresAt: db.prepare('UPDATE consultations SET expires_at = @at WHERE id = @id'),
    setSmsStatus: db.prepare('UPDATE consultations SET sms_status = @status WHERE id = @id'),
    renameClinicianOf: db.prepare('UPDATE consultations SET clinician_name = @name WHERE id = @id'),
    assignClinicianParticipant: db.prepare("UPDATE participants SET display_name = @name, user_id = @userId WHERE consultation_id = @id AND role = 'clinician'"),
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

    insertEvent: db.prepare(`INSERT INTO events (consultation_id, practice_id, at, actor, type, detail)
      VALUES (@consultationId, COALESCE(@practiceId, (SELECT practice_id FROM consultations WHERE id = @consultationId), ''),
        @at, @actor, @type, @detail)`),
    listEvents: db.prepare<[string], EventRow>('SELECT * FROM events WHERE consultation_id = ? ORDER BY seq'),
    statusSince: db.prepare<{ id: string; status: string }, { at: number }>(`SELECT at FROM events
      WHERE consultation_id = @id AND type = 'status' AND json_extract(detail, '$.to') = @status ORDER BY seq DESC LIMIT 1`),
    eventsOfCreatedBetween: db.prepare<{ from: number; to: number; practiceId: string | null }, EventRow>(`SELECT * FROM events WHERE consultation_id IN
      (SELECT consultation_id FROM events WHERE type = 'created' AND at >= @from AND at < @to
        AND (@practiceId IS NULL OR practice_id = @practiceId)) ORDER BY consultation_id, seq`),

    toDelete: db.prepare<{ before: number }, { id: string }>(`SELECT id FROM consultations
      WHERE status IN (${TERMINAL}) AND updated_at < @before AND personal_data_deleted_at IS NULL`),
    clearConsultation: db.prepare(`UPDATE consultations SET patient_phone = NULL, patient_name = NULL, clinician_name = NULL,
      personal_data_deleted_at = @at WHERE id = @id`),
    clearParticipants: db.prepare('UPDATE participants SET display_name = NULL WHERE consultation_id = @id'),
    // Practices, their people, keys and staff sessions
    insertPractice: db.prepare(`INSERT INTO practices (id, ods_code, name, notify_template_id, status, created_at)
      VALUES (@id, @odsCode, @name, @notifyTemplateId, @status, @createdAt)`),
    getPractice: db.prepare<[string], PracticeRow>('SELECT * FROM practices WHERE id = ?'),
    practiceByOds: db.prepare<[string], PracticeRow>('SELECT * FROM practices WHERE ods_code = ?'),
    listPractices: db.prepare<[], PracticeRow>('SELECT * FROM practices ORDER BY created_at, rowid'),
    updatePractice: db.prepare(`UPDATE practices SET ods_code = COALESCE(@odsCode, ods_code), name = COALESCE(@name, name),
      notify_template_id = CASE WHEN @setTemplate THEN @notifyTemplateId ELSE notify_template_id END,
      status = COALESCE(@status, status) WHERE id = @id`),

    insertUser: db.prepare(`INSERT INTO users (id, practice_id, email, display_name, roles, status, oidc_subject, password_hash,
      totp_secret, last_totp_step, failed_logins, locked_until, created_at, updated_at)
      VALUES (@id, @practiceId, @email, @displayName, @roles, @status, @oidcSubject, @passwordHash, @totpSecret, @lastTotpStep,
        @failedLogins, @lockedUntil, @createdAt, @createdAt)`),
    getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?'),
    userByEmail: db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ?'),
    userBySubject: db.prepare<[string], UserRow>('SELECT * FROM users WHERE oidc_subject = ?'),
    listUsers: db.prepare<[string], UserRow>('SELECT * FROM users WHERE practice_id = ? ORDER BY display_name COLLATE NOCASE, rowid'),
    loginFailure: db.prepare<{ id: string; now: number; max: number; lockMs: number }, UserRow>(`UPDATE users SET
      failed_logins = CASE WHEN failed_logins + 1 >= @max THEN 0 ELSE failed_logins + 1 END,
      locked_until = CASE WHEN failed_logins + 1 >= @max THEN @now + @lockMs ELSE locked_until END,
      updated_at = @now WHERE id = @id RETURNING *`),
    acceptTotpStep: db.prepare(`UPDATE users SET last_totp_step = @step
      WHERE id = @id AND (last_totp_step IS NULL OR last_totp_step < @step)`),
    insertSetupLink: db.prepare(`INSERT INTO setup_links (code_hash, user_id, created_at, expires_at)
      VALUES (@codeHash, @userId, @createdAt, @expiresAt)`),
    expireSetupLinks: db.prepare('UPDATE setup_links SET expires_at = MIN(expires_at, @at) WHERE user_id = @userId AND used_at IS NULL'),
    getSetupLink: db.prepare<[string], SetupLinkRow>('SELECT * FROM setup_links WHERE code_hash = ?'),
    takeSetupLink: db.prepare<{ hash: string; now: number }, SetupLinkRow>(`UPDATE setup_links SET used_at = @now
      WHERE code_hash = @hash AND used_at IS NULL AND expires_at > @now RETURNING *`),

    insertApiKey: db.prepare(`INSERT INTO api_keys (id, practice_id, name, key_hash, created_at, last_used_at, expires_at, revoked_at)
      VALUES (@id, @practiceId, @name, @keyHash, @createdAt, @lastUsedAt, @expiresAt, @revokedAt)`),
    putApiKey: db.prepare(`INSERT INTO api_keys (id, practice_id, name, key_hash, created_at, last_used_at, expires_at, revoked_at)
      VALUES (@id, @practiceId, @name, @keyHash, @createdAt, @lastUsedAt, @expiresAt, @revokedAt)
      ON CONFLICT (id) DO UPDATE SET key_hash = excluded.key_hash, practice_id = excluded.practice_id, name = excluded.name,
        revoked_at = NULL, expires_at = NULL`),
    apiKeyByHash: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = ?'),
    getApiKey: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?'),
    listApiKeys: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE practice_id = ? ORDER BY created_at, rowid'),
    touchApiKey: db.prepare('UPDATE api_keys SET last_used_at = @at WHERE id = @id'),
    revokeApiKey: db.prepare('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, @at) WHERE id = @id'),
    expireApiKey: db.prepare('UPDATE api_keys SET expires_at = MIN(COALESCE(expires_at, @at), @at) WHERE id = @id'),

    insertStaffSession: db.prepare(`INSERT INTO staff_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
      VALUES (@idHash, @userId, @csrfToken, @createdAt, @lastSeenAt, @expiresAt)`),
    getStaffSession: db.prepare<[string], StaffSessionRow>('SELECT * FROM staff_sessions WHERE id_hash = ?'),
    touchStaffSession: db.prepare('UPDATE staff_sessions SET last_seen_at = MAX(last_seen_at, @at) WHERE id_hash = @idHash'),
    deleteStaffSession: db.prepare<[string]>('DELETE FROM staff_sessions WHERE id_hash = ?'),
    deleteUserSessions: db.prepare<[string]>('DELETE FROM staff_sessions WHERE user_id = ?'),
    pruneStaffSessions: db.prepare('DELETE FROM staff_sessions WHERE expires_at <= @now OR last_seen_at < @idleBefore'),

    insertPracticeEvent: db.prepare(`INSERT INTO practice_events (practice_id, at, actor, type, detail)
      VALUES (@practiceId, @at, @actor, @type, @detail)`),
    listPracticeEvents: db.prepare<[string], PracticeEventRow>('SELECT * FROM practice_events WHERE practice_id = ? ORDER BY seq'),

    isDeleted: db.prepare<[string], { d: number | null }>('SELECT personal_data_deleted_at AS d FROM consultations WHERE id = ?'),

    // Identity check and phone-me-instead requests (issue #18)
    ...identityStatements(db),
    // Delivery receipts: a final status is never overwritten (see SmsDeliveryStore).
    addSmsDelivery: db.prepare(`INSERT INTO sms_deliveries (notification_id, consultation_id, sent_at, status, status_at, check_at, checks)
      VALUES (@notificationId, @consultationId, @sentAt, @status, @statusAt, @checkAt, @checks)`),
    setSmsDelivery: db.prepare<{ id: string; status: string; at: number; checkAt: number | null }, SmsDeliveryRow>(`UPDATE sms_deliveries
      SET status = @status, status_at = @at, check_at = @checkAt WHERE notification_id = @id AND status = 'sending' RETURNING *`),
    takeDueSmsChecks: db.prepare<{ now: number; lease: number; limit: number }, SmsDeliveryRow>(`UPDATE sms_deliveries
      SET check_at = @lease, checks = checks + 1 WHERE notification_id IN
      (SELECT notification_id FROM sms_deliveries WHERE check_at <= @now ORDER BY check_at LIMIT @limit) RETURNING *`),
    latestSmsDelivery: db.prepare<[string], SmsDeliveryRow>(`SELECT * FROM sms_deliveries WHERE consultation_id = ?
      ORDER BY sent_at DESC, rowid DESC LIMIT 1`),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;

function identityStatements(db: Db) {
  return {
    insertIdentity: db.prepare(`INSERT INTO identity_checks (consultation_id, dob_hash, status, failures, updated_at)
      VALUES (@consultationId, @dobHash, @status, @failures, @updatedAt)`),
    getIdentity: db.prepare<[string], IdentityRow>('SELECT * FROM identity_checks WHERE consultation_id = ?'),
    identitiesOf: db.prepare<[string], IdentityRow>('SELECT * FROM identity_checks WHERE consultation_id IN (SELECT value FROM json_each(?))'),
    identityRight: db.prepare(`UPDATE identity_checks SET status = 'confirmed', updated_at = @at WHERE consultation_id = @id AND status = 'pending'`),
    identityWrong: db.prepare(`UPDATE identity_checks SET failures = failures + 1, updated_at = @at,
      status = CASE WHEN failures + 1 >= @max THEN 'failed' ELSE status END WHERE consultation_id = @id AND status = 'pending'`),
    resetIdentity: db.prepare(`UPDATE identity_checks SET status = 'pending', failures = 0, updated_at = @at
      WHERE consultation_id = @id AND dob_hash IS NOT NULL`),
    clearIdentity: db.prepare('UPDATE identity_checks SET dob_hash = NULL WHERE consultation_id = @id'),
    requestCallback: db.prepare(`INSERT INTO callback_requests (consultation_id, requested_at) VALUES (@id, @at)
      ON CONFLICT (consultation_id) DO UPDATE SET requested_at = excluded.requested_at, done_at = NULL
      WHERE callback_requests.done_at IS NOT NULL`),
    completeCallback: db.prepare('UPDATE callback_requests SET done_at = @at WHERE consultation_id = @id AND done_at IS NULL'),
    callbacksOf: db.prepare<[string], CallbackRow>('SELECT * FROM callback_requests WHERE consultation_id IN (SELECT value FROM json_each(?))'),
  };
}
