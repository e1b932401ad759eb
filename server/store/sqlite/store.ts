/**
 * The SQLite store: every interface of ../store.ts on one database file. better-sqlite3 is
 * synchronous, so each method does all its work (one statement, or one transaction) before it
 * returns its promise: whatever must be atomic is, and nothing interleaves inside a method.
 */
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import { redeemRefusal } from '../../auth/links.js';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../db.js';
import type {
  ApiKeyRecord, AuditEvent, ConsultationRecord, Deadline, DeadlineKind, FirstRecords, LinkRecord, ParticipantRecord, PracticeEvent, PracticeRecord,
  RedeemResult, SetupLinkRecord, SmsStatus, StaffSessionRecord, Store, UserPatch, UserRecord,
} from '../store.js';
import {
  USER_COLUMNS, patchedFields, toApiKey, toConsultation, toDeadline, toEvent, toLink, toParticipant, toPractice, toPracticeEvent, toSetupLink, toStaffSession, toUser, userColumnValue,
} from '../rows.js';
import { type Statements, prepareStatements } from './statements.js';
import type { CallbackRecord, IdentityRecord } from '../store.js';
import { toCallback, toIdentity } from '../rows.js';
import type { SmsDelivery } from '../../../signalling/vocabulary.js';
import type { SmsDeliveryRecord } from '../store.js';
import { toSmsDelivery } from '../rows.js';

export class SqliteStore implements Store {
  private readonly q: Statements;
  /** One prepared UPDATE per shape of patch, made on first use. */
  private readonly userUpdates = new Map<string, Statement>();

  constructor(private readonly db: Db) {
    this.q = prepareStatements(db);
  }

  // Consultations and participants

  async createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[], first?: FirstRecords): Promise<void> {
    this.db.transaction(() => {
      for (const d of first?.deadlines ?? []) this.q.setDeadline.run(d);
      this.q.insertConsultation.run({ ...c, ownerUserId: c.ownerUserId ?? null, smsStatus: c.smsStatus ?? null });
      for (const p of participants) this.insertParticipant(p, c.createdAt);
      for (const l of links) this.q.insertLink.run({ ...l, createdAt: c.createdAt });
      for (const e of first?.events ?? []) this.insertEvent(e);
      if (first?.identity) this.q.insertIdentity.run(first.identity);
    })();
  }

  async getConsultation(id: string): Promise<ConsultationRecord | undefined> {
    const row = this.q.getConsultation.get(id);
    return row && toConsultation(row);
  }

  async setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): Promise<boolean> {
    return this.q.setStatus.run({ id, from, to, at, reason: reason ?? null }).changes === 1;
  }

  async listConsultations(practiceId: string, since: number, owner?: string): Promise<ConsultationRecord[]> {
    return this.q.listSince.all({ practiceId, since, owner: owner ?? null }).map(toConsultation);
  }

  async listByStatus(status: ConsultationStatus): Promise<ConsultationRecord[]> {
    return this.q.listByStatus.all(status).map(toConsultation);
  }

  async countByStatus(): Promise<Partial<Record<ConsultationStatus, number>>> {
    return Object.fromEntries(this.q.countByStatus.all().map((r) => [r.status, r.n]));
  }

  async setExpiresAt(id: string, at: number): Promise<void> {
    this.q.setExpiresAt.run({ id, at });
  }

  async setSmsStatus(id: string, status: SmsStatus): Promise<void> {
    this.q.setSmsStatus.run({ id, status });
  }

  async assignClinician(id: string, clinician: { userId: string; displayName: string }): Promise<void> {
    const name = clinician.displayName;
    this.db.transaction(() => {
      this.q.renameClinicianOf.run({ id, name });
      this.q.assignClinicianParticipant.run({ id, name, userId: clinician.userId });
    })();
  }

  async getParticipant(id: string): Promise<ParticipantRecord | undefined> {
    const r = this.q.getParticipant.get(id);
    return r && toParticipant(r);
  }

  async listParticipants(consultationId: string): Promise<ParticipantRecord[]> {
    return this.q.listParticipants.all(consultationId).map(toParticipant);
  }

  async addParticipant(p: ParticipantRecord, link: LinkRecord, at: number): Promise<void> {
    this.db.transaction(() => {
      this.insertParticipant(p, at);
      this.q.insertLink.run({ ...link, createdAt: at });
    })();
  }

  async markAdmitted(participantId: string, at: number): Promise<void> {
    this.q.markAdmitted.run({ id: participantId, at });
  }

  // Links

  async findLink(codeHash: string): Promise<LinkRecord | undefined> {
    const row = this.q.getLink.get(codeHash);
    return row && toLink(row);
  }

  async redeemLink(codeHash: string, now: number): Promise<RedeemResult> {
    return this.db.transaction((): RedeemResult => {
      const consumed = this.q.consumeLink.get({ hash: codeHash, now });
      if (consumed) return { ok: true, link: toLink(consumed), role: consumed.role, epoch: consumed.epoch };
      const existing = this.q.getLink.get(codeHash);
      if (!existing) return { ok: false, reason: 'not_found' };
      return { ok: false, reason: redeemRefusal(toLink(existing), existing.consultation_status, now) ?? 'expired' };
    })();
  }

  async replaceLink(link: LinkRecord, at: number): Promise<void> {
    this.db.transaction(() => {
      this.q.revokeLinks.run({ pid: link.participantId, at });
      this.q.insertLink.run({ ...link, createdAt: at });
    })();
  }

  async revokeSessions(participantId: string, at: number, links: 'keep' | 'revoke'): Promise<void> {
    this.db.transaction(() => {
      this.q.revokeSessions.run({ pid: participantId });
      if (links === 'revoke') this.q.revokeLinks.run({ pid: participantId, at });
    })();
  }

  // Deadlines

  async setDeadline(d: Deadline): Promise<void> {
    this.q.setDeadline.run(d);
  }

  async clearDeadlines(consultationId: string, kind?: DeadlineKind, participantId?: string): Promise<void> {
    this.q.clearDeadlines.run({ cid: consultationId, kind: kind ?? null, pid: participantId ?? null });
  }

  async nextDeadline(): Promise<Deadline | undefined> {
    const r = this.q.nextDeadline.get();
    return r && toDeadline(r);
  }

  async takeDueDeadlines(now: number): Promise<Deadline[]> {
    return this.db.transaction(() => {
      const due = this.q.dueDeadlines.all(now).map(toDeadline);
      this.q.deleteDue.run(now);
      return due;
    })();
  }

  async deadlinesOf(consultationId: string): Promise<Deadline[]> {
    return this.q.deadlinesOf.all(consultationId).map(toDeadline);
  }

  // Delivery receipts

  async addSmsDelivery(d: SmsDeliveryRecord): Promise<void> {
    this.q.addSmsDelivery.run(d);
  }

  async setSmsDelivery(notificationId: string, status: SmsDelivery, at: number, checkAt: number | null): Promise<SmsDeliveryRecord | undefined> {
    const row = this.q.setSmsDelivery.get({ id: notificationId, status, at, checkAt });
    return row && toSmsDelivery(row);
  }

  async takeDueSmsChecks(now: number, leaseUntil: number, limit: number): Promise<SmsDeliveryRecord[]> {
    return this.q.takeDueSmsChecks.all({ now, lease: leaseUntil, limit }).map(toSmsDelivery);
  }

  async latestSmsDeliveries(consultationIds: readonly string[]): Promise<Map<string, SmsDeliveryRecord>> {
    const found = new Map<string, SmsDeliveryRecord>();
    for (const id of consultationIds) {
      const row = this.q.latestSmsDelivery.get(id);
      if (row) found.set(id, toSmsDelivery(row));
    }
    return found;
  }

  // Audit log

  async appendEvent(e: Omit<AuditEvent, 'seq' | 'practiceId'> & { practiceId?: string }): Promise<void> {
    this.insertEvent(e);
  }

  async listEvents(consultationId: string): Promise<AuditEvent[]> {
    return this.q.listEvents.all(consultationId).map(toEvent);
  }

  async statusSince(consultationId: string, status: ConsultationStatus): Promise<number | undefined> {
    return this.q.statusSince.get({ id: consultationId, status })?.at;
  }

  async eventsOfCreatedBetween(from: number, to: number, practiceId?: string): Promise<AuditEvent[]> {
    return this.q.eventsOfCreatedBetween.all({ from, to, practiceId: practiceId ?? null }).map(toEvent);
  }

  // Retention

  async deletePersonalData(endedBefore: number, at: number, detail?: Record<string, unknown>): Promise<string[]> {
    // Freed bytes are overwritten with zeros, so deleted numbers and names do not linger in the file.
    this.db.pragma('secure_delete = ON');
    return this.db.transaction(() => {
      const ids = this.q.toDelete.all({ before: endedBefore }).map((r) => r.id);
      for (const id of ids) {
        this.q.clearConsultation.run({ id, at });
        this.q.clearParticipants.run({ id });
        this.q.clearIdentity.run({ id });
        this.insertEvent({ consultationId: id, at, actor: 'system', type: 'personal_data_deleted', detail: detail ?? null });
      }
      return ids;
    })();
  }

  async personalDataDeleted(consultationId: string): Promise<boolean> {
    return (this.q.isDeleted.get(consultationId)?.d ?? null) !== null;
  }

  // Practices

  async addPractice(p: PracticeRecord): Promise<void> {
    this.q.insertPractice.run(p);
  }

  async getPractice(id: string): Promise<PracticeRecord | undefined> {
    const r = this.q.getPractice.get(id);
    return r && toPractice(r);
  }

  async findPracticeByOds(odsCode: string): Promise<PracticeRecord | undefined> {
    const r = this.q.practiceByOds.get(odsCode);
    return r && toPractice(r);
  }

  async listPractices(): Promise<PracticeRecord[]> {
    return this.q.listPractices.all().map(toPractice);
  }

  async updatePractice(id: string, patch: Partial<Pick<PracticeRecord, 'odsCode' | 'name' | 'notifyTemplateId' | 'status'>>): Promise<void> {
    this.q.updatePractice.run({
      id, odsCode: patch.odsCode ?? null, name: patch.name ?? null, status: patch.status ?? null,
      setTemplate: patch.notifyTemplateId !== undefined ? 1 : 0, notifyTemplateId: patch.notifyTemplateId ?? null,
    });
  }

  // Staff accounts

  async addUser(u: UserRecord, setup?: Omit<SetupLinkRecord, 'userId' | 'usedAt'>): Promise<void> {
    this.db.transaction(() => {
      this.q.insertUser.run({ ...u, roles: JSON.stringify(u.roles) });
      if (setup) this.q.insertSetupLink.run({ ...setup, userId: u.id, createdAt: u.createdAt });
    })();
  }

  async getUser(id: string): Promise<UserRecord | undefined> {
    const r = this.q.getUser.get(id);
    return r && toUser(r);
  }

  async findUserByEmail(email: string): Promise<UserRecord | undefined> {
    const r = this.q.userByEmail.get(email);
    return r && toUser(r);
  }

  async findUserBySubject(subject: string): Promise<UserRecord | undefined> {
    const r = this.q.userBySubject.get(subject);
    return r && toUser(r);
  }

  async listUsers(practiceId: string): Promise<UserRecord[]> {
    return this.q.listUsers.all(practiceId).map(toUser);
  }

  async updateUser(id: string, patch: UserPatch, at: number): Promise<void> {
    const sets = patchedFields(patch);
    if (!sets.length) return;
    const key = sets.join(',');
    let stmt = this.userUpdates.get(key);
    if (!stmt) {
      // Column names come from USER_COLUMNS only, never from input.
      stmt = this.db.prepare(`UPDATE users SET ${sets.map((k) => `${USER_COLUMNS[k]} = @${k}`).join(', ')}, updated_at = @at WHERE id = @id`);
      this.userUpdates.set(key, stmt);
    }
    const values: Record<string, unknown> = { id, at };
    for (const k of sets) values[k] = userColumnValue(patch, k);
    stmt.run(values);
  }

  async replaceSetupLink(link: Omit<SetupLinkRecord, 'usedAt'>, at: number): Promise<void> {
    this.db.transaction(() => {
      this.q.expireSetupLinks.run({ userId: link.userId, at });
      this.q.insertSetupLink.run({ ...link, createdAt: at });
    })();
  }

  async findSetupLink(codeHash: string): Promise<SetupLinkRecord | undefined> {
    const r = this.q.getSetupLink.get(codeHash);
    return r && toSetupLink(r);
  }

  async takeSetupLink(codeHash: string, now: number): Promise<SetupLinkRecord | undefined> {
    const r = this.q.takeSetupLink.get({ hash: codeHash, now });
    return r && toSetupLink(r);
  }

  async recordLoginFailure(userId: string, now: number, max: number, lockMs: number): Promise<UserRecord | undefined> {
    const r = this.q.loginFailure.get({ id: userId, now, max, lockMs });
    return r && toUser(r);
  }

  async acceptTotpStep(userId: string, step: number): Promise<boolean> {
    return this.q.acceptTotpStep.run({ id: userId, step }).changes === 1;
  }

  // API keys

  async addApiKey(k: ApiKeyRecord): Promise<void> {
    this.q.insertApiKey.run(k);
  }

  async putApiKey(k: ApiKeyRecord): Promise<void> {
    this.q.putApiKey.run(k);
  }

  async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const r = this.q.apiKeyByHash.get(keyHash);
    return r && toApiKey(r);
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | undefined> {
    const r = this.q.getApiKey.get(id);
    return r && toApiKey(r);
  }

  async listApiKeys(practiceId: string): Promise<ApiKeyRecord[]> {
    return this.q.listApiKeys.all(practiceId).map(toApiKey);
  }

  async touchApiKey(id: string, at: number): Promise<void> {
    this.q.touchApiKey.run({ id, at });
  }

  async revokeApiKey(id: string, at: number): Promise<void> {
    this.q.revokeApiKey.run({ id, at });
  }

  async expireApiKey(id: string, at: number): Promise<void> {
    this.q.expireApiKey.run({ id, at });
  }

  // Staff sessions

  async addStaffSession(s: StaffSessionRecord): Promise<void> {
    this.q.insertStaffSession.run(s);
  }

  async getStaffSession(idHash: string): Promise<StaffSessionRecord | undefined> {
    const r = this.q.getStaffSession.get(idHash);
    return r && toStaffSession(r);
  }

  async touchStaffSession(idHash: string, at: number): Promise<void> {
    this.q.touchStaffSession.run({ idHash, at });
  }

  async deleteStaffSession(idHash: string): Promise<void> {
    this.q.deleteStaffSession.run(idHash);
  }

  async deleteUserSessions(userId: string): Promise<void> {
    this.q.deleteUserSessions.run(userId);
  }

  async pruneStaffSessions(now: number, idleBefore: number): Promise<number> {
    return this.q.pruneStaffSessions.run({ now, idleBefore }).changes;
  }

  // The practices' own audit log

  async appendPracticeEvent(e: Omit<PracticeEvent, 'seq'>): Promise<void> {
    this.q.insertPracticeEvent.run({ ...e, detail: e.detail ? JSON.stringify(e.detail) : null });
  }

  async listPracticeEvents(practiceId: string): Promise<PracticeEvent[]> {
    return this.q.listPracticeEvents.all(practiceId).map(toPracticeEvent);
  }

  // The file

  async checkpoint(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private insertParticipant(p: ParticipantRecord, createdAt: number): void {
    this.q.insertParticipant.run({ id: p.id, consultationId: p.consultationId, role: p.role, displayName: p.displayName, userId: p.userId ?? null, createdAt });
  }

  private insertEvent(e: Omit<AuditEvent, 'seq' | 'practiceId'> & { practiceId?: string }): void {
    this.q.insertEvent.run({ ...e, practiceId: e.practiceId ?? null, detail: e.detail ? JSON.stringify(e.detail) : null });
  }

  // Identity check and phone-me-instead requests

  async getIdentity(consultationId: string): Promise<IdentityRecord | undefined> {
    const r = this.q.getIdentity.get(consultationId);
    return r && toIdentity(r);
  }

  async identitiesOf(consultationIds: readonly string[]): Promise<IdentityRecord[]> {
    return this.q.identitiesOf.all(JSON.stringify(consultationIds)).map(toIdentity);
  }

  async recordIdentityTry(consultationId: string, right: boolean, max: number, at: number): Promise<IdentityRecord | undefined> {
    return this.db.transaction(() => {
      if (right) this.q.identityRight.run({ id: consultationId, at });
      else this.q.identityWrong.run({ id: consultationId, at, max });
      const r = this.q.getIdentity.get(consultationId);
      return r && toIdentity(r);
    })();
  }

  async resetIdentity(consultationId: string, at: number): Promise<void> {
    this.q.resetIdentity.run({ id: consultationId, at });
  }

  async requestCallback(consultationId: string, at: number): Promise<boolean> {
    return this.q.requestCallback.run({ id: consultationId, at }).changes === 1;
  }

  async completeCallback(consultationId: string, at: number): Promise<boolean> {
    return this.q.completeCallback.run({ id: consultationId, at }).changes === 1;
  }

  async callbacksOf(consultationIds: readonly string[]): Promise<CallbackRecord[]> {
    return this.q.callbacksOf.all(JSON.stringify(consultationIds)).map(toCallback);
  }
}
