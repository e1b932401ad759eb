/** The tables' rows (snake_case, as migrations.ts creates them, in either store) and their records. */
import { type ConsultationStatus, consultationStatuses, isTerminal } from '../consultations/lifecycle.js';
import type { Role } from '../consultations/participant.js';
import type { EndReason } from '../../signalling/vocabulary.js';
import type { PracticeStatus, StaffRole, UserStatus } from '../../signalling/vocabulary.js';
import type {
  ApiKeyRecord, AuditEvent, ConsultationRecord, Deadline, DeadlineKind, LinkRecord, ParticipantRecord, PracticeEvent, PracticeRecord,
  SetupLinkRecord, SmsStatus, StaffSessionRecord, UserPatch, UserRecord,
} from './store.js';
import type { CallbackRecord, IdentityRecord } from './store.js';
import type { SmsDeliveryRecord } from './store.js';
import type { SmsDelivery } from '../../signalling/vocabulary.js';

/** `'ended', 'expired'`: the lifecycle's terminal states, as an SQL list (constants, not input). */
export const TERMINAL = consultationStatuses.filter(isTerminal).map((s) => `'${s}'`).join(', ');

/** The users columns a patch may set. */
export const USER_COLUMNS: Readonly<Record<keyof UserPatch, string>> = {
  email: 'email', displayName: 'display_name', roles: 'roles', status: 'status', oidcSubject: 'oidc_subject', passwordHash: 'password_hash',
  totpSecret: 'totp_secret', lastTotpStep: 'last_totp_step', failedLogins: 'failed_logins', lockedUntil: 'locked_until',
};

/** The patch's fields that are set, in a stable order (one statement shape per set of fields). */
export function patchedFields(patch: UserPatch): (keyof UserPatch)[] {
  return Object.keys(patch).filter((k): k is keyof UserPatch => k in USER_COLUMNS && patch[k as keyof UserPatch] !== undefined).sort();
}

/** A patch's value as its column holds it (roles as JSON). */
export function userColumnValue(patch: UserPatch, k: keyof UserPatch): unknown {
  return k === 'roles' ? JSON.stringify(patch.roles) : patch[k];
}

export interface ConsultationRow {
  id: string; status: ConsultationStatus; created_at: number; updated_at: number; expires_at: number;
  ended_reason: EndReason | null; patient_phone: string | null; patient_name: string | null; clinician_name: string | null;
  sms_status: SmsStatus | null; practice_id: string; owner_user_id: string | null;
}
export interface ParticipantRow {
  id: string; consultation_id: string; role: Role; display_name: string | null; admitted_at: number | null; session_epoch: number;
  user_id: string | null;
}
/** A link with its participant's role. */
export interface LinkRow {
  code_hash: string; consultation_id: string; participant_id: string; expires_at: number;
  redeemed_at: number | null; revoked_at: number | null; role: Role;
}
/** A link with the state of its consultation (why a redemption was refused). */
export type LinkStateRow = LinkRow & { consultation_status: ConsultationStatus };
/** A consumed link with what its session is issued with. */
export type ConsumedRow = LinkRow & { epoch: number };
export interface DeadlineRow { consultation_id: string; kind: DeadlineKind; participant_id: string; due_at: number }
export interface EventRow { seq: number; consultation_id: string; practice_id: string; at: number; actor: string; type: string; detail: string | null }
export interface PracticeRow {
  id: string; ods_code: string; name: string; notify_template_id: string | null; status: PracticeStatus; created_at: number;
}
export interface UserRow {
  id: string; practice_id: string; email: string; display_name: string; roles: string; status: UserStatus;
  oidc_subject: string | null; password_hash: string | null; totp_secret: string | null; last_totp_step: number | null;
  failed_logins: number; locked_until: number | null; created_at: number;
}
export interface SetupLinkRow { code_hash: string; user_id: string; expires_at: number; used_at: number | null }
export interface ApiKeyRow {
  id: string; practice_id: string; name: string; key_hash: string; created_at: number; last_used_at: number | null;
  expires_at: number | null; revoked_at: number | null;
}
export interface StaffSessionRow { id_hash: string; user_id: string; csrf_token: string; created_at: number; last_seen_at: number; expires_at: number }
export interface PracticeEventRow { seq: number; practice_id: string | null; at: number; actor: string; type: string; detail: string | null }

export const toConsultation = (r: ConsultationRow): ConsultationRecord => ({
  id: r.id, status: r.status, createdAt: r.created_at, updatedAt: r.updated_at, expiresAt: r.expires_at,
  endedReason: r.ended_reason, patientPhone: r.patient_phone, patientName: r.patient_name, clinicianName: r.clinician_name,
  smsStatus: r.sms_status, practiceId: r.practice_id, ownerUserId: r.owner_user_id,
});
export const toParticipant = (r: ParticipantRow): ParticipantRecord => ({
  id: r.id, consultationId: r.consultation_id, role: r.role, displayName: r.display_name, admittedAt: r.admitted_at,
  sessionEpoch: r.session_epoch, userId: r.user_id,
});
export const toLink = (r: LinkRow): LinkRecord => ({
  codeHash: r.code_hash, consultationId: r.consultation_id, participantId: r.participant_id,
  expiresAt: r.expires_at, redeemedAt: r.redeemed_at, revokedAt: r.revoked_at,
});
export const toDeadline = (r: DeadlineRow): Deadline => ({
  consultationId: r.consultation_id, kind: r.kind, participantId: r.participant_id, dueAt: r.due_at,
});
export const toEvent = (r: EventRow): AuditEvent => ({
  seq: r.seq, consultationId: r.consultation_id, practiceId: r.practice_id, at: r.at, actor: r.actor, type: r.type,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
});
export const toPractice = (r: PracticeRow): PracticeRecord => ({
  id: r.id, odsCode: r.ods_code, name: r.name, notifyTemplateId: r.notify_template_id, status: r.status, createdAt: r.created_at,
});
export const toUser = (r: UserRow): UserRecord => ({
  id: r.id, practiceId: r.practice_id, email: r.email, displayName: r.display_name, roles: JSON.parse(r.roles) as StaffRole[],
  status: r.status, oidcSubject: r.oidc_subject, passwordHash: r.password_hash, totpSecret: r.totp_secret,
  lastTotpStep: r.last_totp_step, failedLogins: r.failed_logins, lockedUntil: r.locked_until, createdAt: r.created_at,
});
export const toSetupLink = (r: SetupLinkRow): SetupLinkRecord => ({
  codeHash: r.code_hash, userId: r.user_id, expiresAt: r.expires_at, usedAt: r.used_at,
});
export const toApiKey = (r: ApiKeyRow): ApiKeyRecord => ({
  id: r.id, practiceId: r.practice_id, name: r.name, keyHash: r.key_hash, createdAt: r.created_at, lastUsedAt: r.last_used_at,
  expiresAt: r.expires_at, revokedAt: r.revoked_at,
});
export const toStaffSession = (r: StaffSessionRow): StaffSessionRecord => ({
  idHash: r.id_hash, userId: r.user_id, csrfToken: r.csrf_token, createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at,
});
export const toPracticeEvent = (r: PracticeEventRow): PracticeEvent => ({
  seq: r.seq, practiceId: r.practice_id, at: r.at, actor: r.actor, type: r.type,
  detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
});

export interface IdentityRow { consultation_id: string; dob_hash: string | null; status: IdentityRecord['status']; failures: number; updated_at: number }
export const toIdentity = (r: IdentityRow): IdentityRecord => ({
  consultationId: r.consultation_id, dobHash: r.dob_hash, status: r.status, failures: r.failures, updatedAt: r.updated_at,
});
export interface CallbackRow { consultation_id: string; requested_at: number; done_at: number | null }
export const toCallback = (r: CallbackRow): CallbackRecord => ({ consultationId: r.consultation_id, requestedAt: r.requested_at, doneAt: r.done_at });
export interface SmsDeliveryRow {
  notification_id: string; consultation_id: string; sent_at: number; status: SmsDelivery; status_at: number; check_at: number | null; checks: number;
}
export const toSmsDelivery = (r: SmsDeliveryRow): SmsDeliveryRecord => ({
  notificationId: r.notification_id, consultationId: r.consultation_id, sentAt: r.sent_at, status: r.status, statusAt: r.status_at,
  checkAt: r.check_at, checks: r.checks,
});
