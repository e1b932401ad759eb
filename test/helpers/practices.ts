/**
 * Two practices on one real server: A (the default practice) and B (added through the store),
 * each with an API key of its own and a signed-in member of staff in every role (./staff.ts puts
 * their sessions straight into the store; sign-in has tests of its own).
 */
import { newId } from '../../server/auth/codes.js';
import { DEFAULT_PRACTICE_ID } from '../../server/store/db.js';
import type { StaffRole } from '../../signalling/vocabulary.js';
import type { TestServer } from './server.js';
import { signedIn } from './staff.js';

export type PracticeName = 'A' | 'B';
export type PrincipalKind = 'key' | StaffRole;

/** Someone who calls the practice API: a practice's key, or a signed-in member of its staff. */
export interface Caller {
  /** e.g. `clinician of A`. */
  label: string;
  practice: PracticeName;
  kind: PrincipalKind;
  /** How the audit log names them: `key:<id>` or `user:<id>`. */
  actor: string;
  email?: string;
  displayName?: string;
  /** Headers that make a request theirs (the CSRF token too, harmless on a GET). */
  headers: Record<string, string>;
  /** The staff session cookie (`name=value`), for users. */
  cookie?: string;
}

export interface Answer {
  status: number;
  text: string;
  body: any;
}

export interface TwoPractices {
  ids: Record<PracticeName, string>;
  callers: Caller[];
  caller(practice: PracticeName, kind: PrincipalKind): Caller;
  /** A request to the service as `who`. */
  call(who: Caller, method: string, route: string, body?: unknown): Promise<Answer>;
}

const roles: readonly StaffRole[] = ['admin', 'clinician', 'receptionist'];

/** Names and numbers the tests can search every answer and table for. */
export const personOf = (practice: PracticeName, kind: PrincipalKind) => ({
  email: `${kind}.${practice.toLowerCase()}@practice-${practice.toLowerCase()}.nhs.test`,
  displayName: `Zebedee ${kind === 'key' ? 'Key' : kind[0]?.toUpperCase() + kind.slice(1)} ${practice}`,
});

export async function twoPractices(server: TestServer): Promise<TwoPractices> {
  const { app } = server;
  const now = Date.now();
  const B = newId();
  await app.store.addPractice({ id: B, odsCode: 'B82002', name: 'Riverside Surgery', notifyTemplateId: null, status: 'active', createdAt: now });
  const ids: Record<PracticeName, string> = { A: DEFAULT_PRACTICE_ID, B };

  const callers: Caller[] = [];
  for (const practice of ['A', 'B'] as const) {
    const issued = await app.keys.create(ids[practice], `${practice} practice system`, 'system');
    callers.push({
      label: `key of ${practice}`, practice, kind: 'key', actor: `key:${issued.record.id}`,
      headers: { authorization: `Bearer ${issued.key}` },
    });
    for (const role of roles) {
      const person = personOf(practice, role);
      const { user, headers } = await signedIn(server, { ...person, roles: [role], practiceId: ids[practice], now });
      callers.push({
        label: `${role} of ${practice}`, practice, kind: role, actor: `user:${user.id}`, ...person, cookie: headers(false).cookie,
        headers: headers(),
      });
    }
  }

  return {
    ids,
    callers,
    caller(practice, kind) {
      const c = callers.find((x) => x.practice === practice && x.kind === kind);
      if (!c) throw new Error(`no ${kind} of ${practice}`);
      return c;
    },
    async call(who, method, route, body) {
      const res = await fetch(`${server.url}${route}`, {
        method,
        headers: { ...who.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = undefined;
      }
      return { status: res.status, text, body: parsed };
    },
  };
}
