/**
 * Who is asking: a practice's API key, or a signed-in member of its staff. Every request to the
 * practice API has exactly one; everything it touches is scoped to `practiceId`.
 */
import type { StaffRole } from '../../signalling/vocabulary.js';

export type Principal =
  | { kind: 'key'; practiceId: string; keyId: string }
  | { kind: 'user'; practiceId: string; userId: string; roles: readonly StaffRole[]; displayName: string };

/** How the audit log names a principal: by id, never by name or e-mail. */
export type PrincipalActor = `key:${string}` | `user:${string}`;

export function actorOf(p: Principal): PrincipalActor {
  return p.kind === 'key' ? `key:${p.keyId}` : `user:${p.userId}`;
}

/** The signed-in user's id, if the principal is a person. */
export function userIdOf(p: Principal): string | undefined {
  return p.kind === 'user' ? p.userId : undefined;
}
