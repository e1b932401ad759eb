/**
 * The words of the service, each declared once: server, browser pages, metrics and logs import
 * them from here. Each is an `as const` array (to check or list at run time) with its union type.
 * No imports, so a browser bundle that takes one array takes nothing else.
 */

/** Lifecycle of a consultation (design.md 2.2; the transition table is server/consultations/lifecycle.ts). */
export const consultationStatuses = ['created', 'waiting', 'in_call', 'ended', 'expired'] as const;
export type ConsultationStatus = (typeof consultationStatuses)[number];

export const roles = ['patient', 'clinician', 'guest'] as const;
export type Role = (typeof roles)[number];

/**
 * What a member of a practice's staff may do (server/auth/permissions.ts grants each its rights).
 * A person may hold several: a GP partner is often `clinician` and `admin`.
 */
export const staffRoles = ['admin', 'clinician', 'receptionist'] as const;
export type StaffRole = (typeof staffRoles)[number];

/** A staff account: invited (its set-up link not used yet), active, or disabled by an admin. */
export const userStatuses = ['invited', 'active', 'disabled'] as const;
export type UserStatus = (typeof userStatuses)[number];

/** A practice: suspended by the operator, its keys and people are refused (its data stays). */
export const practiceStatuses = ['active', 'suspended'] as const;
export type PracticeStatus = (typeof practiceStatuses)[number];

/** A participant's presence in a live consultation (transitions: server/consultations/participant.ts). */
export const presences = [
  'checking', // has a session, has not pressed Join yet (not connected)
  'waiting', // in the waiting room
  'admitted', // in the call (clinicians are admitted on joining)
  'reconnecting', // connection dropped, within the reconnect grace
  'left',
] as const;
export type Presence = (typeof presences)[number];

/** Why a consultation ended or expired: stored, shown in the audit log and told to clients. */
export const endReasons = [
  'ended_by_clinician',
  'ended_by_api',
  'link_expired',
  'waiting_timeout',
  'call_time_limit',
  'room_empty',
] as const;
export type EndReason = (typeof endReasons)[number];

/** What became of a text message. `unknown`: the provider may have sent it (do not re-send blindly). */
export const smsStatuses = ['sent', 'failed', 'unknown'] as const;
export type SmsStatus = (typeof smsStatuses)[number];

/** Every error code a client can see, over HTTP or in a socket acknowledgement (statuses: server/errors.ts). */
export const errorCodes = [
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'link_not_found',
  'consultation_not_found',
  'participant_not_found',
  'link_used',
  'link_expired',
  'consultation_closed',
  'rate_limited',
  'invalid_state',
  'media_failed',
  'sms_failed',
  'internal',
  'unavailable',
  'practice_suspended',
  'csrf_failed',
  'account_locked',
  'moved',
  // Identity check (issue #18)
  'identity_required',
  'identity_mismatch',
  'identity_locked',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

/**
 * The patient's date-of-birth check before the waiting room: `not_required` when the practice gave
 * no date; `failed` after too many wrong tries (the link is locked; the practice re-sends it).
 */
export const identityStates = ['not_required', 'pending', 'confirmed', 'failed'] as const;
export type IdentityState = (typeof identityStates)[number];

/**
 * What the SMS provider last said of a sent text (GOV.UK Notify's delivery statuses, in our
 * spelling): `sending` until the network answers, then one final word (server/sms/delivery.ts).
 */
export const smsDeliveries = ['sending', 'delivered', 'permanent_failure', 'temporary_failure', 'technical_failure'] as const;
export type SmsDelivery = (typeof smsDeliveries)[number];

/** How a person's media can reach the service, as the check step found it (client/page/connection-check.ts). */
/**
 * How the video from one participant to another fits the receiver's link (issue #20): all of it,
 * a smaller simulcast layer, or paused while the voice goes on.
 */
export const videoFits = ['full', 'reduced', 'paused'] as const;
export type VideoFit = (typeof videoFits)[number];

export const connectionKinds = ['direct', 'relay', 'none'] as const;
export type ConnectionKind = (typeof connectionKinds)[number];

/** Whether `value` is one of `words` (narrows an unknown answer to the union). */
export function isOneOf<const T extends readonly string[]>(words: T, value: unknown): value is T[number] {
  return (words as readonly unknown[]).includes(value);
}

/** Why a page gave up on the direct connection of a call of two (client/call/path.ts, issue #17). */
export const p2pFallbackReasons = ['failed', 'slow', 'frozen'] as const;
export type P2pFallbackReason = (typeof p2pFallbackReasons)[number];
