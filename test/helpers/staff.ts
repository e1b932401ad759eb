/**
 * A signed-in member of staff, for tests of what comes after signing in (the console, the admin
 * page and API). It does what a sign-in leaves behind, without the sign-in: the user is invited
 * (`app.people.invite`) and made active (`app.store.updateUser`), and a staff session is stored
 * (`app.store.addStaffSession`) with a random id whose SHA-256 (`hashCode`) is its `idHash`;
 * the browser or request then carries that id in the cookie `app.staff.cookieName`. The real
 * sign-in journeys (local accounts with TOTP, OpenID Connect) are tested on their own.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'puppeteer-core';
import { hashCode } from '../../server/auth/codes.js';
import { DEFAULT_PRACTICE_ID } from '../../server/store/db.js';
import type { PracticeRecord, UserRecord } from '../../server/store/store.js';
import type { StaffRole } from '../../signalling/vocabulary.js';
import type { TestServer } from './server.js';

export interface Staff {
  user: UserRecord;
  /** The session cookie's value. */
  sessionId: string;
  csrfToken: string;
  /** `cookie` (and, with `csrf`, `x-csrf-token`) request headers for this person. */
  headers(csrf?: boolean): Record<string, string>;
}

let counter = 0;

export async function signedIn(
  server: TestServer,
  opts: { roles: StaffRole[]; displayName?: string; email?: string; practiceId?: string; now?: number },
): Promise<Staff> {
  const { app } = server;
  const now = opts.now ?? Date.now();
  counter += 1;
  const email = opts.email ?? `staff${counter}-${randomBytes(4).toString('hex')}@example.nhs.uk`;
  const { user } = await app.people.invite(opts.practiceId ?? DEFAULT_PRACTICE_ID, {
    email, displayName: opts.displayName ?? `Staff ${counter}`, roles: opts.roles,
  }, 'system');
  await app.store.updateUser(user.id, { status: 'active' }, now);
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  await app.store.addStaffSession({
    idHash: hashCode(sessionId), userId: user.id, csrfToken, createdAt: now, lastSeenAt: now, expiresAt: now + 8 * 3600_000,
  });
  const cookie = `${app.staff.cookieName}=${sessionId}`;
  return {
    user: { ...user, status: 'active' },
    sessionId,
    csrfToken,
    headers: (csrf = true) => ({ cookie, ...(csrf ? { 'x-csrf-token': csrfToken } : {}) }),
  };
}

/** A request as this person (JSON in and out), with the CSRF token unless `csrf: false`. */
export async function staffCall(
  server: TestServer, staff: Staff, method: string, route: string, body?: unknown, opts: { csrf?: boolean } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${server.url}${route}`, {
    method,
    headers: { ...staff.headers(opts.csrf ?? true), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Puts this person's session cookie into the page's browser context, for the server's origin. */
export async function signInPage(page: Page, server: TestServer, staff: Staff): Promise<void> {
  await page.setCookie({ name: server.app.staff.cookieName, value: staff.sessionId, url: server.url, httpOnly: true, sameSite: 'Lax' });
}

/** A second practice, for isolation checks. */
export async function addPractice(server: TestServer, odsCode: string, name = `Practice ${odsCode}`): Promise<PracticeRecord> {
  const practice: PracticeRecord = {
    id: `p-${odsCode.toLowerCase()}`, odsCode, name, notifyTemplateId: null, status: 'active', createdAt: Date.now(),
  };
  await server.app.store.addPractice(practice);
  return practice;
}
