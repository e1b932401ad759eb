/**
 * The SQLite store: every interface of ../store.ts on one database file. better-sqlite3 is
 * synchronous, so each method does all its work (one statement, or one transaction) before it
 * returns its promise: whatever must be atomic is, and nothing interleaves inside a method.
 */
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import { redeemRefusal } from '../../auth/links.js';
import type { Db } from '../db.js';
import type {
  AuditEvent, ConsultationRecord, Deadline, DeadlineKind, LinkRecord, ParticipantRecord, RedeemResult, SmsStatus, Store,
} from '../store.js';
import { toConsultation, toDeadline, toEvent, toLink, toParticipant } from './rows.js';
import { type Statements, prepareStatements } from './statements.js';

export class SqliteStore implements Store {
  private readonly q: Statements;

  constructor(private readonly db: Db) {
    this.q = prepareStatements(db);
  }

  // Consultations and participants

  async createConsultation(c: ConsultationRecord, participants: ParticipantRecord[], links: LinkRecord[]): Promise<void> {
    this.db.transaction(() => {
      this.q.insertConsultation.run({ ...c, smsStatus: c.smsStatus ?? null });
      for (const p of participants) this.insertParticipant(p, c.createdAt);
      for (const l of links) this.q.insertLink.run({ ...l, createdAt: c.createdAt });
    })();
  }

  async getConsultation(id: string): Promise<ConsultationRecord | undefined> {
    const row = this.q.getConsultation.get(id);
    return row && toConsultation(row);
  }

  async setStatus(id: string, from: ConsultationStatus, to: ConsultationStatus, at: number, reason?: string): Promise<boolean> {
    return this.q.setStatus.run({ id, from, to, at, reason: reason ?? null }).changes === 1;
  }

  async listConsultations(since: number): Promise<ConsultationRecord[]> {
    return this.q.listSince.all(since).map(toConsultation);
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

  // Audit log

  async appendEvent(e: Omit<AuditEvent, 'seq'>): Promise<void> {
    this.insertEvent(e);
  }

  async listEvents(consultationId: string): Promise<AuditEvent[]> {
    return this.q.listEvents.all(consultationId).map(toEvent);
  }

  async statusSince(consultationId: string, status: ConsultationStatus): Promise<number | undefined> {
    return this.q.statusSince.get({ id: consultationId, status })?.at;
  }

  async eventsOfCreatedBetween(from: number, to: number): Promise<AuditEvent[]> {
    return this.q.eventsOfCreatedBetween.all({ from, to }).map(toEvent);
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
        this.insertEvent({ consultationId: id, at, actor: 'system', type: 'personal_data_deleted', detail: detail ?? null });
      }
      return ids;
    })();
  }

  async personalDataDeleted(consultationId: string): Promise<boolean> {
    return (this.q.isDeleted.get(consultationId)?.d ?? null) !== null;
  }

  // The file

  async checkpoint(): Promise<void> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  async close(): Promise<void> {
    this.db.close();
  }

  private insertParticipant(p: ParticipantRecord, createdAt: number): void {
    this.q.insertParticipant.run({ id: p.id, consultationId: p.consultationId, role: p.role, displayName: p.displayName, createdAt });
  }

  private insertEvent(e: Omit<AuditEvent, 'seq'>): void {
    this.q.insertEvent.run({ ...e, detail: e.detail ? JSON.stringify(e.detail) : null });
  }
}
