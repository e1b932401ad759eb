/** What the admin page says about people, keys and changes, in plain English. Pure functions of the data. */
import type { StaffRole, UserStatus } from '../../signalling/vocabulary.js';
import type { ApiKeyView, PracticeEvent, StaffUser } from './api.js';

export const roleWords: Record<StaffRole, string> = { clinician: 'Clinician', receptionist: 'Receptionist', admin: 'Admin' };

export const statusWords: Record<UserStatus, string> = {
  invited: 'Invited (account not set up yet)',
  active: 'Active',
  disabled: 'Disabled',
};

export function when(iso: string): string {
  return new Date(iso).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

export function keyStatus(k: ApiKeyView): string {
  if (k.revokedAt) return `Revoked ${when(k.revokedAt)}`;
  if (k.expiresAt) return k.usable ? `Replaced: works until ${when(k.expiresAt)}` : `Replaced: stopped ${when(k.expiresAt)}`;
  return k.configured ? 'Works (set in the service\'s configuration)' : 'Works';
}

const eventWords: Record<string, string> = {
  user_invited: 'invited',
  setup_link_issued: 'issued a new set-up link for',
  user_roles_set: 'changed the roles of',
  user_disabled: 'disabled',
  user_enabled: 'enabled',
  api_key_created: 'created the API key',
  api_key_rotated: 'replaced the API key',
  api_key_revoked: 'revoked the API key',
};

/** The audit log names actors and subjects by id only: the page puts the names it knows back. */
export function describeEvent(e: PracticeEvent, users: Map<string, StaffUser>, keys: Map<string, ApiKeyView>): { who: string; what: string } {
  const [kind, id] = e.actor.split(':') as [string, string | undefined];
  const who = kind === 'user' && id ? users.get(id)?.displayName ?? 'A former user'
    : kind === 'key' && id ? `API key "${keys.get(id)?.name ?? id}"`
      : kind === 'operator' ? 'The service\'s operator' : 'The service';
  const detail = e.detail ?? {};
  const subject = typeof detail.userId === 'string' ? users.get(detail.userId)?.displayName ?? 'a former user'
    : typeof detail.keyId === 'string' ? `"${keys.get(detail.keyId)?.name ?? detail.keyId}"` : '';
  const verb = eventWords[e.type] ?? e.type.replace(/_/g, ' ');
  return { who, what: `${verb} ${subject}`.trim() };
}
