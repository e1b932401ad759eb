/**
 * Who may do what: each role of a practice's staff, and a practice's API keys, are granted a
 * fixed list of rights. Routes ask `can(principal, right)`; a right not granted is a 403 naming it.
 * A user's rights are the union of their roles' (a GP partner may be clinician and admin).
 */
import type { StaffRole } from '../../signalling/vocabulary.js';
import { AppError } from '../errors.js';
import type { Principal } from './principal.js';

export const permissions = [
  'consultation.create', // start one and send the patient's link
  'consultation.read', // list and see consultations (with the patient's name and masked number)
  'consultation.resend', // send the patient a new link
  'consultation.join', // a clinician's way into the call (a clinician link, or joining from the console)
  'consultation.invite', // add a guest (interpreter, carer)
  'consultation.end',
  'consultation.events', // the audit log of one consultation
  'report.read', // the S97 counts (no personal data)
  'practice.manage', // people and API keys
] as const;
export type Permission = (typeof permissions)[number];

const all = permissions.filter((p) => p !== 'practice.manage');

/** The grants. A receptionist creates and re-sends but does not join calls; an admin manages people and keys. */
export const grants: Readonly<Record<StaffRole | 'api_key', readonly Permission[]>> = {
  // A practice system acts for the practice as a whole, as API_KEY always has; it manages nobody.
  api_key: all,
  clinician: all.filter((p) => p !== 'report.read'),
  receptionist: ['consultation.create', 'consultation.read', 'consultation.resend'],
  admin: ['consultation.read', 'consultation.events', 'report.read', 'practice.manage'],
};

export function can(p: Principal, right: Permission): boolean {
  const held = p.kind === 'key' ? ['api_key' as const] : p.roles;
  return held.some((role) => grants[role].includes(right));
}

/** Throws `forbidden` unless the principal holds the right. */
export function demand(p: Principal, right: Permission): void {
  if (!can(p, right)) throw new AppError('forbidden', `Your account cannot do this (${right}). Ask your practice's admin.`);
}
