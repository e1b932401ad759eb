/**
 * The PostgreSQL store (the region mode, shared by every node): every interface of ../store.ts
 * on a `pg` pool. What the interfaces call atomic is one statement or one transaction; what must
 * happen once across nodes (a link's redemption, a deadline, a TOTP step, a retention sweep) is
 * one conditional statement, so two nodes at the same instant cannot both win. When the database
 * is down or restarting, every method rejects with the coded `unavailable`, and the pool
 * reconnects by itself once it is back.
 */
import pg from 'pg';
import { redeemRefusal } from '../../auth/links.js';
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import { AppError } from '../../errors.js';
import type { Logger } from '../../log.js';
import {
  type ApiKeyRow, type ConsultationRow, type ConsumedRow, type DeadlineRow, type EventRow, type LinkStateRow, type ParticipantRow,
  type PracticeEventRow, type PracticeRow, type SetupLinkRow, type StaffSessionRow, TERMINAL, USER_COLUMNS, type UserRow, patchedFields,
  toApiKey, toConsultation, toDeadline, toEvent, toLink, toParticipant, toPractice, toPracticeEvent, toSetupLink, toStaffSession, toUser,
  userColumnValue,
} from '../rows.js';
import type {
  ApiKeyRecord, AuditEvent, ConsultationRecord, Deadline, FirstRecords, DeadlineKind, LinkRecord, ParticipantRecord, PracticeEvent, PracticeRecord,
  RedeemResult, SetupLinkRecord, SmsStatus, StaffSessionRecord, Store, UserPatch, UserRecord,
} from '../store.js';
import { migrate } from './migrate.js';
import type { CallbackRecord, IdentityRecord } from '../store.js';
import { type CallbackRow, type IdentityRow, toCallback, toIdentity } from '../rows.js';
import type { SmsDelivery } from '../../../signalling/vocabulary.js';
import type { SmsDeliveryRecord } from '../store.js';
import { type SmsDeliveryRow, toSmsDelivery } from '../rows.js';
import { isUnavailable, unavailable } from './unavailable.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

/** BIGINT (epoch ms, counts) as a number, for this pool only: every value we keep is far below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const INSERT_PARTICIPANT = `INSERT INTO participants (id, consultation_id, role, display_name, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)`;
const UPSERT_DEADLINE = `INSERT INTO deadlines (consultation_id, kind, participant_id, due_at) VALUES ($1, $2, $3, $4)
  ON CONFLICT (consultation_id, kind, participant_id) DO UPDATE SET due_at = EXCLUDED.due_at`;
const INSERT_LINK = `INSERT INTO links (code_hash, consultation_id, participant_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)`;
const REVOKE_LINKS = 'UPDATE links SET revoked_at = $2 WHERE participant_id = $1 AND revoked_at IS NULL';
const INSERT_EVENT = `INSERT INTO events (consultation_id, practice_id, at, actor, type, detail)
  VALUES ($1, COALESCE($2::text, (SELECT practice_id FROM consultations WHERE id = $1), ''), $3, $4, $5, $6)`;
const INSERT_SETUP_LINK = 'INSERT INTO setup_links (code_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)';
const API_KEY_VALUES = `INSERT INTO api_keys (id, practice_id, name, key_hash, created_at, last_used_at, expires_at, revoked_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`;

/** SQLSTATE 23505. */
const UNIQUE_VIOLATION = '23505';

const json = (d: Record<string, unknown> | null | undefined) => (d ? JSON.stringify(d) : null);
const apiKeyValues = (k: ApiKeyRecord) => [k.id, k.practiceId, k.name, k.keyHash, k.createdAt, k.lastUsedAt, k.expiresAt, k.revokedAt];

type Reachability = 'up' | 'down';

export class PgStore implements Store {
  private reachability: Reachability = 'up';

  private constructor(private readonly pool: pg.Pool, private readonly logger: Logger) {}

  /** Connects, migrates forward under the migration lock, and resolves to the store. */
  static async open(url: string, logger: Logger): Promise<PgStore> {
    const pool = new pg.Pool({
      connectionString: url, types, application_name: 'openconsult', keepAlive: true,
      // A database that does not answer (a partition, a stalled failover) is unavailable, not a
      // request that hangs: no connection in 5 s, or no answer in 30 s (the longest sweep is far shorter).
      connectionTimeoutMillis: 5_000, query_timeout: 30_000,
    });
    // An idle connection dropped by a restart or failover: the pool discards it and opens another when needed.
    pool.on('error', (err) => logger.warn({ code: (err as { code?: string }).code }, 'database connection lost'));
    try {
      await migrate(pool);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw isUnavailable(err) ? unavailable() : err;
    }
    return new PgStore(pool, logger);
  }

  // Consultations and participants

  async createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[], first?: FirstRecords): Promise<void> {
    await this.tx(async (q) => {
      await q.query(`INSERT INTO consultations (id, practice_id, owner_user_id, status, created_at, updated_at, expires_at, ended_reason,
        patient_phone, patient_name, clinician_name, sms_status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [
        c.id, c.practiceId, c.ownerUserId ?? null, c.status, c.createdAt, c.updatedAt, c.expiresAt, c.endedReason, c.patientPhone,
        c.patientName, c.clinicianName, c.smsStatus ?? null]);
      for (const p of participants) await this.insertParticipant(q, p, c.createdAt);
      for (const l of links) await q.query(INSERT_LINK, [l.codeHash, l.consultationId, l.participantId, c.createdAt, l.expiresAt]);
      for (const e of first?.events ?? []) await this.insertEvent(q, e);
      for (const d of first?.deadlines ?? []) await q.query(UPSERT_DEADLINE, [d.consultationId, d.kind, d.participantId, d.dueAt]);
      const idc = first?.identity;
      if (idc) {
        await q.query('INSERT INTO identity_checks (consultation_id, dob_hash, status, failures, updated_at) VALUES ($1, $2, $3, $4, $5)',
          [idc.consultationId, idc.dobHash, idc.status, idc.failures, idc.updatedAt]);
      }
    });
  }

  async getConsultation(id: string): Promise<ConsultationRecord | undefined> {
    return this.one<ConsultationRow>('SELECT * FROM consultations WHERE id = $1', [id]).then((r) => r && toConsultation(r));
  }

  async setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): Promise<boolean> {
    return (await this.run(`UPDATE consultations SET status = $3, updated_at = $4, ended_reason = COALESCE($5, ended_reason)
      WHERE id = $1 AND status = $2`, [id, from, to, at, reason ?? null])).rowCount === 1;
  }

  async listConsultations(practiceId: string, since: number, owner?: string): Promise<ConsultationRecord[]> {
    return (await this.all<ConsultationRow>(`SELECT * FROM consultations
      WHERE practice_id = $1 AND created_at >= $2 AND ($3::text IS NULL OR owner_user_id = $3)
      ORDER BY created_at DESC LIMIT 500`, [practiceId, since, owner ?? null])).map(toConsultation);
  }

  async listByStatus(status: ConsultationStatus): Promise<ConsultationRecord[]> {
    return (await this.all<ConsultationRow>('SELECT * FROM consultations WHERE status = $1', [status])).map(toConsultation);
  }

  async countByStatus(): Promise<Partial<Record<ConsultationStatus, number>>> {
    const rows = await this.all<{ status: ConsultationStatus; n: number }>('SELECT status, COUNT(*) AS n FROM consultations GROUP BY status');
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  async setExpiresAt(id: string, at: number): Promise<void> {
    await this.run('UPDATE consultations SET expires_at = $2 WHERE id = $1', [id, at]);
  }

  async setSmsStatus(id: string, status: SmsStatus): Promise<void> {
    await this.run('UPDATE consultations SET sms_status = $2 WHERE id = $1', [id, status]);
  }

  async assignClinician(id: string, clinician: { userId: string; displayName: string }): Promise<void> {
    await this.tx(async (q) => {
      await q.query('UPDATE consultations SET clinician_name = $2 WHERE id = $1', [id, clinician.displayName]);
      await q.query("UPDATE participants SET display_name = $2, user_id = $3 WHERE consultation_id = $1 AND role = 'clinician'",
        [id, clinician.displayName, clinician.userId]);
    });
  }

  async getParticipant(id: string): Promise<ParticipantRecord | undefined> {
    return this.one<ParticipantRow>('SELECT * FROM participants WHERE id = $1', [id]).then((r) => r && toParticipant(r));
  }

  async listParticipants(consultationId: string): Promise<ParticipantRecord[]> {
    return (await this.all<ParticipantRow>('SELECT * FROM participants WHERE consultation_id = $1 ORDER BY created_at, ord', [consultationId]))
      .map(toParticipant);
  }

  async addParticipant(p: ParticipantRecord, link: LinkRecord, at: number): Promise<void> {
    await this.tx(async (q) => {
      await this.insertParticipant(q, p, at);
      await q.query(INSERT_LINK, [link.codeHash, link.consultationId, link.participantId, at, link.expiresAt]);
    });
  }

  async markAdmitted(participantId: string, at: number): Promise<void> {
    await this.run('UPDATE participants SET admitted_at = COALESCE(admitted_at, $2) WHERE id = $1', [participantId, at]);
  }

  // Links

  async findLink(codeHash: string): Promise<LinkRecord | undefined> {
    return this.linkState(codeHash).then((r) => r && toLink(r));
  }

  async redeemLink(codeHash: string, now: number): Promise<RedeemResult> {
    // One statement: a concurrent redemption on another node waits for this row, then finds it used.
    // The session epoch is read in the same statement, so a revocation cannot fall between the two.
    const consumed = await this.one<ConsumedRow>(`UPDATE links SET redeemed_at = $2
      WHERE code_hash = $1 AND redeemed_at IS NULL AND revoked_at IS NULL AND expires_at > $2
        AND (SELECT status FROM consultations c WHERE c.id = links.consultation_id) NOT IN (${TERMINAL})
      RETURNING *, (SELECT role FROM participants p WHERE p.id = links.participant_id) AS role,
        (SELECT session_epoch FROM participants p WHERE p.id = links.participant_id) AS epoch`, [codeHash, now]);
    if (consumed) return { ok: true, link: toLink(consumed), role: consumed.role, epoch: consumed.epoch };
    // Refused: nothing was used up, so reading why afterwards cannot change the outcome.
    const existing = await this.linkState(codeHash);
    if (!existing) return { ok: false, reason: 'not_found' };
    return { ok: false, reason: redeemRefusal(toLink(existing), existing.consultation_status, now) ?? 'expired' };
  }

  async replaceLink(link: LinkRecord, at: number): Promise<void> {
    await this.tx(async (q) => {
      await q.query(REVOKE_LINKS, [link.participantId, at]);
      await q.query(INSERT_LINK, [link.codeHash, link.consultationId, link.participantId, at, link.expiresAt]);
    });
  }

  async revokeSessions(participantId: string, at: number, links: 'keep' | 'revoke'): Promise<void> {
    await this.tx(async (q) => {
      // Admission belongs to the sessions it was granted to: it goes with them.
      await q.query('UPDATE participants SET session_epoch = session_epoch + 1, admitted_at = NULL WHERE id = $1', [participantId]);
      if (links === 'revoke') await q.query(REVOKE_LINKS, [participantId, at]);
    });
  }

  // Deadlines

  async setDeadline(d: Deadline): Promise<void> {
    await this.run(UPSERT_DEADLINE, [d.consultationId, d.kind, d.participantId, d.dueAt]);
  }

  async clearDeadlines(consultationId: string, kind?: DeadlineKind, participantId?: string): Promise<void> {
    await this.run(`DELETE FROM deadlines WHERE consultation_id = $1 AND ($2::text IS NULL OR kind = $2)
      AND ($3::text IS NULL OR participant_id = $3)`, [consultationId, kind ?? null, participantId ?? null]);
  }

  async nextDeadline(): Promise<Deadline | undefined> {
    return this.one<DeadlineRow>('SELECT * FROM deadlines ORDER BY due_at LIMIT 1').then((r) => r && toDeadline(r));
  }

  async takeDueDeadlines(now: number): Promise<Deadline[]> {
    // Rows another node is taking are skipped, not waited for: each deadline is taken by one node.
    const rows = await this.all<DeadlineRow>(`DELETE FROM deadlines WHERE (consultation_id, kind, participant_id) IN
      (SELECT consultation_id, kind, participant_id FROM deadlines WHERE due_at <= $1 FOR UPDATE SKIP LOCKED) RETURNING *`, [now]);
    return rows.map(toDeadline).sort((a, b) => a.dueAt - b.dueAt);
  }

  async deadlinesOf(consultationId: string): Promise<Deadline[]> {
    return (await this.all<DeadlineRow>('SELECT * FROM deadlines WHERE consultation_id = $1 ORDER BY due_at', [consultationId])).map(toDeadline);
  }

  // Delivery receipts: a final status is never overwritten (see SmsDeliveryStore).

  async addSmsDelivery(d: SmsDeliveryRecord): Promise<void> {
    await this.run(`INSERT INTO sms_deliveries (notification_id, consultation_id, sent_at, status, status_at, check_at, checks)
      VALUES ($1, $2, $3, $4, $5, $6, $7)`, [d.notificationId, d.consultationId, d.sentAt, d.status, d.statusAt, d.checkAt, d.checks]);
  }

  async setSmsDelivery(notificationId: string, status: SmsDelivery, at: number, checkAt: number | null): Promise<SmsDeliveryRecord | undefined> {
    const row = await this.one<SmsDeliveryRow>(`UPDATE sms_deliveries SET status = $2, status_at = $3, check_at = $4
      WHERE notification_id = $1 AND status = 'sending' RETURNING *`, [notificationId, status, at, checkAt]);
    return row && toSmsDelivery(row);
  }

  async takeDueSmsChecks(now: number, leaseUntil: number, limit: number): Promise<SmsDeliveryRecord[]> {
    const rows = await this.all<SmsDeliveryRow>(`UPDATE sms_deliveries SET check_at = $2, checks = checks + 1 WHERE notification_id IN
      (SELECT notification_id FROM sms_deliveries WHERE check_at <= $1 ORDER BY check_at LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *`,
    [now, leaseUntil, limit]);
    return rows.map(toSmsDelivery);
  }

  async latestSmsDeliveries(consultationIds: readonly string[]): Promise<Map<string, SmsDeliveryRecord>> {
    if (!consultationIds.length) return new Map();
    const rows = await this.all<SmsDeliveryRow>(`SELECT DISTINCT ON (consultation_id) * FROM sms_deliveries
      WHERE consultation_id = ANY($1) ORDER BY consultation_id, sent_at DESC`, [consultationIds]);
    return new Map(rows.map((r) => [r.consultation_id, toSmsDelivery(r)]));
  }

  // Audit log

  async appendEvent(e: Omit<AuditEvent, 'seq' | 'practiceId'> & { practiceId?: string }): Promise<void> {
    await this.guard(() => this.insertEvent(this.pool, e));
  }

  async listEvents(consultationId: string): Promise<AuditEvent[]> {
    return (await this.all<EventRow>('SELECT * FROM events WHERE consultation_id = $1 ORDER BY seq', [consultationId])).map(toEvent);
  }

  async statusSince(consultationId: string, status: ConsultationStatus): Promise<number | undefined> {
    const r = await this.one<{ at: number }>(`SELECT at FROM events
      WHERE consultation_id = $1 AND type = 'status' AND detail::jsonb ->> 'to' = $2 ORDER BY seq DESC LIMIT 1`, [consultationId, status]);
    return r?.at;
  }

  async eventsOfCreatedBetween(from: number, to: number, practiceId?: string): Promise<AuditEvent[]> {
    return (await this.all<EventRow>(`SELECT * FROM events WHERE consultation_id IN
      (SELECT consultation_id FROM events WHERE type = 'created' AND at >= $1 AND at < $2
        AND ($3::text IS NULL OR practice_id = $3)) ORDER BY consultation_id COLLATE "C", seq`, [from, to, practiceId ?? null])).map(toEvent);
  }

  // Retention

  async deletePersonalData(endedBefore: number, at: number, detail?: Record<string, unknown>): Promise<string[]> {
    return this.tx(async (q) => {
      // One conditional UPDATE: two nodes sweeping at once clear (and audit) each consultation once.
      const { rows } = await q.query<{ id: string }>(`UPDATE consultations SET patient_phone = NULL, patient_name = NULL,
        clinician_name = NULL, personal_data_deleted_at = $2
        WHERE status IN (${TERMINAL}) AND updated_at < $1 AND personal_data_deleted_at IS NULL RETURNING id`, [endedBefore, at]);
      const ids = rows.map((r) => r.id).sort();
      if (!ids.length) return ids;
      await q.query('UPDATE participants SET display_name = NULL WHERE consultation_id = ANY($1)', [ids]);
      await q.query('UPDATE identity_checks SET dob_hash = NULL WHERE consultation_id = ANY($1)', [ids]);
      for (const id of ids) {
        await this.insertEvent(q, { consultationId: id, at, actor: 'system', type: 'personal_data_deleted', detail: detail ?? null });
      }
      return ids;
    });
  }

  async personalDataDeleted(consultationId: string): Promise<boolean> {
    const r = await this.one<{ d: number | null }>('SELECT personal_data_deleted_at AS d FROM consultations WHERE id = $1', [consultationId]);
    return (r?.d ?? null) !== null;
  }

  // Practices

  async addPractice(p: PracticeRecord): Promise<void> {
    await this.run(`INSERT INTO practices (id, ods_code, name, notify_template_id, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [p.id, p.odsCode, p.name, p.notifyTemplateId, p.status, p.createdAt]);
  }

  async getPractice(id: string): Promise<PracticeRecord | undefined> {
    return this.one<PracticeRow>('SELECT * FROM practices WHERE id = $1', [id]).then((r) => r && toPractice(r));
  }

  async findPracticeByOds(odsCode: string): Promise<PracticeRecord | undefined> {
    return this.one<PracticeRow>('SELECT * FROM practices WHERE ods_code = $1', [odsCode]).then((r) => r && toPractice(r));
  }

  async listPractices(): Promise<PracticeRecord[]> {
    return (await this.all<PracticeRow>('SELECT * FROM practices ORDER BY created_at, ord')).map(toPractice);
  }

  async updatePractice(id: string, patch: Partial<Pick<PracticeRecord, 'odsCode' | 'name' | 'notifyTemplateId' | 'status'>>): Promise<void> {
    await this.run(`UPDATE practices SET ods_code = COALESCE($2, ods_code), name = COALESCE($3, name),
      notify_template_id = CASE WHEN $5::boolean THEN $6 ELSE notify_template_id END, status = COALESCE($4, status) WHERE id = $1`,
    [id, patch.odsCode ?? null, patch.name ?? null, patch.status ?? null, patch.notifyTemplateId !== undefined, patch.notifyTemplateId ?? null]);
  }

  // Staff accounts

  async addUser(u: UserRecord, setup?: Omit<SetupLinkRecord, 'userId' | 'usedAt'>): Promise<void> {
    // Two nodes inviting one e-mail at the same instant (both checked first): the second is told, not a 500.
    await this.tx(async (q) => {
      await q.query(`INSERT INTO users (id, practice_id, email, display_name, roles, status, oidc_subject, password_hash, totp_secret,
        last_totp_step, failed_logins, locked_until, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)`,
      [u.id, u.practiceId, u.email, u.displayName, JSON.stringify(u.roles), u.status, u.oidcSubject, u.passwordHash, u.totpSecret,
        u.lastTotpStep, u.failedLogins, u.lockedUntil, u.createdAt]);
      if (setup) await q.query(INSERT_SETUP_LINK, [setup.codeHash, u.id, u.createdAt, setup.expiresAt]);
    }).catch((err: unknown) => {
      const { code, constraint } = err as { code?: string; constraint?: string };
      if (code === UNIQUE_VIOLATION && constraint === 'users_email') throw new AppError('invalid_state', 'That e-mail address already has an account.');
      throw err;
    });
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    return this.one<UserRow>('SELECT * FROM users WHERE id = $1', [id]).then((r) => r && toUser(r));
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    // lower(email) is what the unique index holds: the same person whatever the case.
    return this.one<UserRow>('SELECT * FROM users WHERE lower(email) = lower($1)', [email]).then((r) => r && toUser(r));
  }

  async findUserBySubject(subject: string): Promise<UserRecord | undefined> {
    return this.one<UserRow>('SELECT * FROM users WHERE oidc_subject = $1', [subject]).then((r) => r && toUser(r));
  }

  async listUsers(practiceId: string): Promise<UserRecord[]> {
    // As SQLite's NOCASE orders: case folded, then bytes, whatever the database's locale.
    return (await this.all<UserRow>('SELECT * FROM users WHERE practice_id = $1 ORDER BY lower(display_name) COLLATE "C", ord', [practiceId]))
      .map(toUser);
  }

  async updateUser(id: string, patch: UserPatch, at: number): Promise<void> {
    const sets = patchedFields(patch);
    if (!sets.length) return;
    // Column names come from USER_COLUMNS only, never from input.
    const assignments = sets.map((k, i) => `${USER_COLUMNS[k]} = $${i + 3}`).join(', ');
    await this.run(`UPDATE users SET ${assignments}, updated_at = $2 WHERE id = $1`, [id, at, ...sets.map((k) => userColumnValue(patch, k))]);
  }

  async replaceSetupLink(link: Omit<SetupLinkRecord, 'usedAt'>, at: number): Promise<void> {
    await this.tx(async (q) => {
      await q.query('UPDATE setup_links SET expires_at = LEAST(expires_at, $2) WHERE user_id = $1 AND used_at IS NULL', [link.userId, at]);
      await q.query(INSERT_SETUP_LINK, [link.codeHash, link.userId, at, link.expiresAt]);
    });
  }

  async findSetupLink(codeHash: string): Promise<SetupLinkRecord | undefined> {
    return this.one<SetupLinkRow>('SELECT * FROM setup_links WHERE code_hash = $1', [codeHash]).then((r) => r && toSetupLink(r));
  }

  async takeSetupLink(codeHash: string, now: number): Promise<SetupLinkRecord | undefined> {
    return this.one<SetupLinkRow>(`UPDATE setup_links SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2
      RETURNING *`, [codeHash, now]).then((r) => r && toSetupLink(r));
  }

  async recordLoginFailure(userId: string, now: number, max: number, lockMs: number): Promise<UserRecord | undefined> {
    return this.one<UserRow>(`UPDATE users SET
      failed_logins = CASE WHEN failed_logins + 1 >= $3 THEN 0 ELSE failed_logins + 1 END,
      locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $2::bigint + $4::bigint ELSE locked_until END,
      updated_at = $2 WHERE id = $1 RETURNING *`, [userId, now, max, lockMs]).then((r) => r && toUser(r));
  }

  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    return (await this.run(`UPDATE users SET last_totp_step = $2
      WHERE id = $1 AND (last_totp_step IS NULL OR last_totp_step < $2)`, [userId, step])).rowCount === 1;
  }

  // API keys

  async addApiKey(k: ApiKeyRecord): Promise<void> {
    await this.run(API_KEY_VALUES, apiKeyValues(k));
  }

  async putApiKey(k: ApiKeyRecord): Promise<void> {
    await this.run(`${API_KEY_VALUES} ON CONFLICT (id) DO UPDATE SET key_hash = EXCLUDED.key_hash, practice_id = EXCLUDED.practice_id,
      name = EXCLUDED.name, revoked_at = NULL, expires_at = NULL`, apiKeyValues(k));
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    return this.one<ApiKeyRow>('SELECT * FROM api_keys WHERE key_hash = $1', [keyHash]).then((r) => r && toApiKey(r));
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    return this.one<ApiKeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]).then((r) => r && toApiKey(r));
  }

  async listApiKeys(practiceId: string): Promise<ApiKeyRecord[]> {
    return (await this.all<ApiKeyRow>('SELECT * FROM api_keys WHERE practice_id = $1 ORDER BY created_at, ord', [practiceId])).map(toApiKey);
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    await this.run('UPDATE api_keys SET last_used_at = $2 WHERE id = $1', [id, at]);
  }

  async revokeApiKey(id: string, at: number): Promise<void> {
    await this.run('UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1', [id, at]);
  }

  async expireApiKey(id: string, at: number): Promise<void> {
    await this.run('UPDATE api_keys SET expires_at = LEAST(COALESCE(expires_at, $2), $2) WHERE id = $1', [id, at]);
  }

  // Staff sessions

  async addStaffSession(s: StaffSessionRecord): Promise<void> {
    await this.run(`INSERT INTO staff_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
      [s.idHash, s.userId, s.csrfToken, s.createdAt, s.lastSeenAt, s.expiresAt]);
  }

  async getStaffSession(idHash: string): Promise<StaffSessionRecord | undefined> {
    return this.one<StaffSessionRow>('SELECT * FROM staff_sessions WHERE id_hash = $1', [idHash]).then((r) => r && toStaffSession(r));
  }

  async touchStaffSession(idHash: string, at: number): Promise<void> {
    await this.run('UPDATE staff_sessions SET last_seen_at = GREATEST(last_seen_at, $2) WHERE id_hash = $1', [idHash, at]);
  }

  async deleteStaffSession(idHash: string): Promise<void> {
    await this.run('DELETE FROM staff_sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteUserSessions(userId: string): Promise<void> {
    await this.run('DELETE FROM staff_sessions WHERE user_id = $1', [userId]);
  }

  async pruneStaffSessions(now: number, idleBefore: number): Promise<number> {
    return (await this.run('DELETE FROM staff_sessions WHERE expires_at <= $1 OR last_seen_at < $2', [now, idleBefore])).rowCount ?? 0;
  }

  // The practices' own audit log

  async appendPracticeEvent(e: Omit<PracticeEvent, 'seq'>): Promise<void> {
    await this.run('INSERT INTO practice_events (practice_id, at, actor, type, detail) VALUES ($1, $2, $3, $4, $5)',
      [e.practiceId, e.at, e.actor, e.type, json(e.detail)]);
  }

  async listPracticeEvents(practiceId: string): Promise<PracticeEvent[]> {
    return (await this.all<PracticeEventRow>('SELECT * FROM practice_events WHERE practice_id = $1 ORDER BY seq', [practiceId])).map(toPracticeEvent);
  }

  // The database

  /** Every commit is already durable in the server: nothing to fold in. */
  async checkpoint(): Promise<void> {}

  async close(): Promise<void> {
    await this.pool.end();
  }

  // Helpers

  private linkState(codeHash: string): Promise<LinkStateRow | undefined> {
    return this.one<LinkStateRow>(`SELECT l.*, p.role AS role, c.status AS consultation_status FROM links l
      JOIN participants p ON p.id = l.participant_id JOIN consultations c ON c.id = l.consultation_id WHERE l.code_hash = $1`, [codeHash]);
  }

  private async insertParticipant(q: Queryable, p: ParticipantRecord, createdAt: number): Promise<void> {
    await q.query(INSERT_PARTICIPANT, [p.id, p.consultationId, p.role, p.displayName, p.userId ?? null, createdAt]);
  }

  private async insertEvent(q: Queryable, e: Omit<AuditEvent, 'seq' | 'practiceId'> & { practiceId?: string }): Promise<void> {
    await q.query(INSERT_EVENT, [e.consultationId, e.practiceId ?? null, e.at, e.actor, e.type, json(e.detail)]);
  }

  private run(text: string, values: unknown[] = []): Promise<pg.QueryResult> {
    return this.guard(() => this.pool.query(text, values));
  }

  // Identity check and phone-me-instead requests

  async getIdentity(consultationId: string): Promise<IdentityRecord | undefined> {
    return this.one<IdentityRow>('SELECT * FROM identity_checks WHERE consultation_id = $1', [consultationId]).then((r) => r && toIdentity(r));
  }

  async identitiesOf(consultationIds: readonly string[]): Promise<IdentityRecord[]> {
    return (await this.all<IdentityRow>('SELECT * FROM identity_checks WHERE consultation_id = ANY($1)', [consultationIds])).map(toIdentity);
  }

  async recordIdentityTry(consultationId: string, right: boolean, max: number, at: number): Promise<IdentityRecord | undefined> {
    // One conditional UPDATE: tries on two nodes at once are each counted, and none after the lock.
    await this.run(right
      ? `UPDATE identity_checks SET status = 'confirmed', updated_at = $2 WHERE consultation_id = $1 AND status = 'pending'`
      : `UPDATE identity_checks SET failures = failures + 1, updated_at = $2,
          status = CASE WHEN failures + 1 >= $3 THEN 'failed' ELSE status END WHERE consultation_id = $1 AND status = 'pending'`,
    right ? [consultationId, at] : [consultationId, at, max]);
    return this.getIdentity(consultationId);
  }

  async resetIdentity(consultationId: string, at: number): Promise<void> {
    await this.run(`UPDATE identity_checks SET status = 'pending', failures = 0, updated_at = $2
      WHERE consultation_id = $1 AND dob_hash IS NOT NULL`, [consultationId, at]);
  }

  async requestCallback(consultationId: string, at: number): Promise<boolean> {
    return (await this.run(`INSERT INTO callback_requests (consultation_id, requested_at) VALUES ($1, $2)
      ON CONFLICT (consultation_id) DO UPDATE SET requested_at = EXCLUDED.requested_at, done_at = NULL
      WHERE callback_requests.done_at IS NOT NULL`, [consultationId, at])).rowCount === 1;
  }

  async completeCallback(consultationId: string, at: number): Promise<boolean> {
    return (await this.run('UPDATE callback_requests SET done_at = $2 WHERE consultation_id = $1 AND done_at IS NULL', [consultationId, at]))
      .rowCount === 1;
  }

  async callbacksOf(consultationIds: readonly string[]): Promise<CallbackRecord[]> {
    return (await this.all<CallbackRow>('SELECT * FROM callback_requests WHERE consultation_id = ANY($1)', [consultationIds])).map(toCallback);
  }

  private async all<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.guard(() => this.pool.query<R>(text, values))).rows;
  }

  private async one<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R | undefined> {
    return (await this.all<R>(text, values))[0];
  }

  /**
   * One transaction on one connection: committed whole, or rolled back whole. A connection that
   * failed is destroyed rather than returned to the pool; its `error` event, which would otherwise
   * be unhandled while the connection is checked out, is absorbed (the query rejects as well).
   */
  private tx<T>(work: (q: Queryable) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      const absorb = () => undefined;
      client.on('error', absorb);
      try {
        await client.query('BEGIN');
        const result = await work(client);
        await client.query('COMMIT');
        client.removeListener('error', absorb);
        client.release();
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        client.removeListener('error', absorb);
        client.release(true);
        throw err;
      }
    });
  }

  /** Runs database work; a database that is not there becomes the coded `unavailable`. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.mark('up');
      return result;
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (!isUnavailable(err)) {
        // PostgreSQL puts the offending values in `detail` (an e-mail, a phone number): not for the log.
        if (err && typeof err === 'object' && 'detail' in err) delete (err as { detail?: unknown }).detail;
        throw err;
      }
      this.mark('down', (err as { code?: string }).code);
      throw unavailable();
    }
  }

  /** Logs when the database goes away and when it is back, not every request in between. */
  private mark(now: Reachability, code?: string): void {
    if (now === this.reachability) return;
    this.reachability = now;
    if (now === 'down') this.logger.warn({ code }, 'database unavailable');
    else this.logger.info('database reachable again');
  }
}
