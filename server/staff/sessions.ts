/**
 * Staff sign-in sessions: after a sign-in (server/staff/signin.ts, oidc.ts) the browser holds a
 * random session id in an httpOnly cookie; the store keeps only its hash, with a CSRF token that
 * the page sends back in `x-csrf-token` on every state-changing request. A session ends when it
 * has been idle for STAFF_SESSION_IDLE, at STAFF_SESSION_MAX after sign-in, when its user is
 * disabled or its practice suspended, or on sign-out.
 *
 * The cookie is SameSite=Lax, not Strict: the identity provider sends the browser back to us
 * from another site, and a Strict cookie set then would be missing on the next page. Lax cookies
 * are sent on top-level GETs only, which change nothing; the CSRF token guards the rest.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hashCode } from '../auth/codes.js';
import { AppError } from '../errors.js';
import type { PracticeRecord, StaffSessionRecord, TenancyStore, UserRecord } from '../store/store.js';

export interface StaffSessionOptions {
  idleSeconds: number;
  maxSeconds: number;
  /** PUBLIC_URL is https: the cookie is Secure and `__Host-` named. */
  secure: boolean;
}

/** A live staff session with its user and practice (both active). */
export interface StaffContext {
  session: StaffSessionRecord;
  user: UserRecord;
  practice: PracticeRecord;
}

/**
 * Writes of `last_seen_at` are skipped within this long of the last one: one per minute per
 * session, or every half idle period if that is shorter (else a busy session could idle out).
 */
const TOUCH_EVERY_MS = 60_000;

export class StaffSessions {
  readonly cookieName: string;

  constructor(
    private readonly store: TenancyStore,
    private readonly opts: StaffSessionOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.cookieName = opts.secure ? '__Host-oc_staff' : 'oc_staff';
  }

  /** Signs the user in on this browser: a new session (any earlier cookie is replaced). */
  async start(reply: FastifyReply, user: UserRecord, requestIsTls: boolean): Promise<StaffSessionRecord> {
    const id = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: StaffSessionRecord = {
      idHash: hashCode(id), userId: user.id, csrfToken: randomBytes(24).toString('base64url'),
      createdAt: at, lastSeenAt: at, expiresAt: at + this.opts.maxSeconds * 1000,
    };
    await this.store.addStaffSession(session);
    // No Max-Age: the cookie goes when the browser closes (shared reception PCs), and the store ends it sooner.
    reply.setCookie(this.cookieName, id, { path: '/', httpOnly: true, sameSite: 'lax', secure: this.opts.secure || requestIsTls });
    return session;
  }

  /**
   * The session this request's cookie names, if it is live. Throws `practice_suspended` for a
   * suspended practice's user (so they are told why), and ends sessions that are over.
   */
  async resolve(req: FastifyRequest): Promise<StaffContext | undefined> {
    const id = req.cookies[this.cookieName];
    if (!id) return undefined;
    const idHash = hashCode(id);
    const session = await this.store.getStaffSession(idHash);
    if (!session) return undefined;
    const now = this.now();
    const user = await this.store.getUser(session.userId);
    if (now >= session.expiresAt || now >= session.lastSeenAt + this.opts.idleSeconds * 1000 || !user || user.status !== 'active') {
      await this.store.deleteStaffSession(idHash);
      return undefined;
    }
    const practice = await this.store.getPractice(user.practiceId);
    if (!practice) return undefined;
    if (practice.status !== 'active') throw new AppError('practice_suspended', 'Your practice\'s use of this service is suspended. Contact the service\'s operator.');
    if (now - session.lastSeenAt >= Math.min(TOUCH_EVERY_MS, this.opts.idleSeconds * 500)) await this.store.touchStaffSession(idHash, now);
    return { session, user, practice };
  }

  /** Throws `csrf_failed` unless the request carries the session's CSRF token. */
  checkCsrf(req: FastifyRequest, session: StaffSessionRecord): void {
    const sent = req.headers['x-csrf-token'];
    const a = Buffer.from(typeof sent === 'string' ? sent : '');
    const b = Buffer.from(session.csrfToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      throw new AppError('csrf_failed', 'This page is out of date. Reload it and try again.');
    }
  }

  /** Signs this browser out. */
  async end(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = req.cookies[this.cookieName];
    if (id) await this.store.deleteStaffSession(hashCode(id));
    reply.clearCookie(this.cookieName, { path: '/' });
  }
}
