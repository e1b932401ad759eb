/** The SQLite tables' rows (snake_case, as db.ts creates them) and their records. */
import type { ConsultationStatus } from '../../consultations/lifecycle.js';
import type { Role } from '../../consultations/participant.js';
import type { EndReason } from '../../../signalling/vocabulary.js';
import type { AuditEvent, ConsultationRecord, Deadline, DeadlineKind, LinkRecord, ParticipantRecord, SmsStatus } from '../store.js';

export interface ConsultationRow {
  id: string; status: ConsultationStatus; created_at: number; updated_at: number; expires_at: number;
  ended_reason: EndReason | null; patient_phone: string | null; patient_name: string | null; clinician_name: string | null;
  sms_status: SmsStatus | null;
}
export interface ParticipantRow {
  id: string; consultation_id: string; role: Role; display_name: string | null; admitted_at: number | null; session_epoch: number;
}
/** A link with its participant's role. */
export interface LinkRow {
  code_hash: string; consultation_id: string; participant_id: string; expires_at: number;
  redeemed_at: number | null; revoked_at: number | null; role: Role;
}
/** A consumed link with what its session is issued with. */
export type ConsumedRow = LinkRow & { epoch: number };
export interface DeadlineRow { consultation_id: string; kind: DeadlineKind; participant_id: string; due_at: number }
export interface EventRow { seq: number; consultation_id: string; at: number; actor: string; type: string; detail: string | null }

export const toConsultation = (r: ConsultationRow): ConsultationRecord => ({
  id: r.id, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at,
  endedReason: r.ended_reason, patientPhone: r.patient_phone, patientName: r.patient_name, clinicianName: r.clinician_name,
  smsStatus: r.sms_status,
});
export const toParticipant = (r: ParticipantRow): ParticipantRecord => ({
  id: r.id, consultationId: r.consultation_id, role: r.role, displayName: r.display_name, admittedAt: r.admitted_at,
  sessionEpoch: r.session_epoch,
});
export const toLink = (r: LinkRow): LinkRecord => ({
  codeHash: r.code_hash, consultationId: r.consultation_id, participantId: r.participant_id,
  expiresAt: r.expires_at, redeemedAt: r.redeemed_at, revokedAt: r.revoked_at,
});
export const toDeadline = (r: DeadlineRow): Deadline => ({
  consultationId: r.consultation_id, kind: r.kind, participantId: r.participant_id, dueAt: r.due_at,
});
export const toEvent = (r: EventRow): AuditEvent => ({
  seq: r.seq, consultationId: r.consultation_id, at: r.at, actor: r.actor, type: r.type,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
});
