/**
 * Staff sign-in (design.md 3): the sign-in and set-up pages, local accounts (e-mail, password,
 * TOTP), OpenID Connect, set-up links and signing out. A successful sign-in starts a staff
 * session (staff/sessions.ts) and answers where to go next and the session's CSRF token.
 *
 * Refused sign-ins and set-up codes count against the asking address (RATE: refusals only, as for
 * patients' links: a practice's PCs share one address, and their good sign-ins must never lock
 * each other out); past the limit the address is refused before any check.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { LocalSignin } from '../staff/local.js';
import { OidcSignin, type OidcClaims } from '../staff/oidc.js';
import type { StaffSessions } from '../staff/sessions.js';
import { AccountSetup } from '../staff/setup.js';
import { enrolment, newTotpSecret } from '../staff/totp.js';
import type { TenancyStore, UserRecord } from '../store/store.js';
import { HtmlPage, NoContent } from './schemas.js';

export interface SigninDeps {
  store: TenancyStore;
  staff: StaffSessions;
  now: () => number;
  publicUrl: () => string;
  /** The service's session secret (the OIDC state cookie's key is derived from it). */
  secret: string;
  /** PUBLIC_URL is https: cookies are Secure. */
  secureCookies: boolean;
  logger: Logger;
  config: {
    localSignin: boolean;
    loginMaxFailures: number;
    loginLockout: number;
    oidcIssuer?: string | undefined;
    oidcClientId?: string | undefined;
    oidcClientSecret?: string | undefined;
    oidcName: string;
    oidcScopes: string;
  };
}

/** Refused sign-ins and set-up attempts per address per minute. */
export const SIGNIN_REFUSALS_PER_MINUTE = 30;

const REFUSED = 'E-mail, password or code not recognised.';

const Email = Type.String({ minLength: 1, maxLength: 254 });
const Password = Type.String({ minLength: 1, maxLength: 1024 });
const TotpCode = Type.String({ minLength: 1, maxLength: 16 });
const Next = Type.String({ maxLength: 512 });

const LocalBody = Type.Object({ email: Email, password: Password, code: TotpCode, next: Type.Optional(Next) }, { additionalProperties: false });
const SignedIn = Type.Object({ next: Type.String(), csrfToken: Type.String() });
const SetupParams = Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) });
const SetupBody = Type.Object({
  password: Password, totpSecret: Type.String({ maxLength: 64 }), code: TotpCode,
  displayName: Type.Optional(Type.String({ maxLength: 100 })), email: Type.Optional(Email),
}, { additionalProperties: false });
const SetupInfo = Type.Object({
  displayName: Type.String(),
  /** A first admin gives their own name and e-mail. */
  needsIdentity: Type.Boolean(),
  local: Type.Union([Type.Object({ secret: Type.String(), uri: Type.String(), qrSvg: Type.String() }), Type.Null()]),
  oidc: Type.Union([Type.Object({ name: Type.String(), start: Type.String() }), Type.Null()]),
});
const Methods = Type.Object({
  local: Type.Boolean(),
  oidc: Type.Union([Type.Object({ name: Type.String() }), Type.Null()]),
});
const Me = Type.Object({ displayName: Type.String(), roles: Type.Array(Type.String()), practiceName: Type.String(), csrfToken: Type.String() });
const OidcQuery = Type.Object({ next: Type.Optional(Next), setup: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false });
const CallbackQuery = Type.Record(Type.String(), Type.String());

/** A same-origin path to go to after sign-in, never an absolute or protocol-relative URL. */
export function safeNext(next: string | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\s\\]/.test(next)) return '/console';
  return next;
}

export async function signinRoutes(app: FastifyInstance, deps: SigninDeps): Promise<void> {
  const { store, staff, now, config } = deps;
  const local = new LocalSignin({ store, now, maxFailures: config.loginMaxFailures, lockoutSeconds: config.loginLockout });
  const setup = new AccountSetup({ store, now });
  const oidc = config.oidcIssuer && config.oidcClientId && config.oidcClientSecret
    ? new OidcSignin({
      issuer: config.oidcIssuer, clientId: config.oidcClientId, clientSecret: config.oidcClientSecret, scopes: config.oidcScopes,
      publicUrl: deps.publicUrl, secret: deps.secret, secure: deps.secureCookies, logger: deps.logger,
    })
    : undefined;
  oidc?.warmUp();

  let limiter: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  const refusals: NonNullable<typeof limiter> = (req, opts) => {
    limiter ??= app.createRateLimit({ max: SIGNIN_REFUSALS_PER_MINUTE, timeWindow: 60_000 });
    return limiter(req, opts);
  };
  /** Refuses an address past its limit; counts this request if it is refused. */
  async function limited<T>(req: FastifyRequest, reply: FastifyReply, work: () => Promise<T>): Promise<T> {
    reply.header('cache-control', 'no-store');
    const limit = await refusals(req, { increment: false });
    if (!limit.isAllowed && limit.remaining === 0) {
      const wait = Math.max(1, limit.ttlInSeconds);
      reply.header('retry-after', wait);
      throw new AppError('rate_limited', `Too many attempts from your network. Try again in ${wait} seconds.`);
    }
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppError) await refusals(req);
      throw err;
    }
  }

  async function signIn(req: FastifyRequest, reply: FastifyReply, user: UserRecord, next: string | undefined): Promise<{ next: string; csrfToken: string }> {
    const practice = await store.getPractice(user.practiceId);
    if (practice?.status !== 'active') {
      throw new AppError('practice_suspended', 'Your practice\'s use of this service is suspended. Contact the service\'s operator.');
    }
    const session = await staff.start(reply, user, req.protocol === 'https');
    return { next: safeNext(next), csrfToken: session.csrfToken };
  }

  const page = (file: string) => async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
    return reply.sendFile(file, { cacheControl: false });
  };
  app.get('/signin', { schema: { response: { 200: HtmlPage } } }, page('signin.html'));
  // Serving the page uses nothing up: link scanners fetch URLs. Its script asks what to show.
  app.get('/setup/:code', { schema: { response: { 200: HtmlPage } } }, page('setup.html'));

  app.get('/auth/methods', { schema: { response: { 200: Methods } } }, async () => ({
    local: config.localSignin, oidc: oidc ? { name: config.oidcName } : null,
  }));

  // Who is signed in on this browser, with the CSRF token the pages send back.
  app.get('/auth/session', { schema: { response: { 200: Me } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const ctx = await staff.resolve(req);
    if (!ctx) throw new AppError('unauthorized', 'You are not signed in.');
    return { displayName: ctx.user.displayName, roles: ctx.user.roles, practiceName: ctx.practice.name, csrfToken: ctx.session.csrfToken };
  });

  app.post<{ Body: typeof LocalBody.static }>('/auth/local', { schema: { body: LocalBody, response: { 200: SignedIn } } }, async (req, reply) =>
    limited(req, reply, async () => {
      if (!config.localSignin) throw new AppError('forbidden', 'Sign in with your organisation\'s account: this service does not use passwords.');
      const outcome = await local.check(req.body);
      if (outcome.ok) return signIn(req, reply, outcome.user, req.body.next);
      if (outcome.reason === 'locked') {
        const wait = Math.max(1, Math.ceil((outcome.until - now()) / 1000));
        reply.header('retry-after', wait);
        throw new AppError('account_locked', `Too many attempts: this account is locked. Try again after ${new Date(outcome.until).toISOString().slice(11, 16)} UTC, or ask your practice's admin.`);
      }
      throw new AppError('unauthorized', REFUSED);
    }));

  app.post('/auth/signout', { schema: { response: { 204: NoContent } } }, async (req, reply) => {
    const ctx = await staff.resolve(req).catch(() => undefined);
    if (ctx) {
      staff.checkCsrf(req, ctx.session);
      await store.appendPracticeEvent({ practiceId: ctx.practice.id, at: now(), actor: `user:${ctx.user.id}`, type: 'signed_out', detail: null });
    }
    await staff.end(req, reply);
    return reply.status(204).send();
  });

  app.get<{ Params: typeof SetupParams.static }>('/api/v1/setup/:code', {
    schema: { params: SetupParams, response: { 200: SetupInfo } },
  }, async (req, reply) => limited(req, reply, async () => {
    const { user, needsIdentity } = await setup.inspect(req.params.code);
    let localPart: typeof SetupInfo.static['local'] = null;
    if (config.localSignin) {
      const secret = newTotpSecret();
      localPart = { secret, ...(await enrolment(secret, needsIdentity ? user.displayName : user.email)) };
    }
    const start = `/auth/oidc/start?setup=${encodeURIComponent(req.params.code)}`;
    return { displayName: user.displayName, needsIdentity, local: localPart, oidc: oidc ? { name: config.oidcName, start } : null };
  }));

  app.post<{ Params: typeof SetupParams.static; Body: typeof SetupBody.static }>('/api/v1/setup/:code', {
    schema: { params: SetupParams, body: SetupBody, response: { 200: SignedIn } },
  }, async (req, reply) => limited(req, reply, async () => {
    if (!config.localSignin) throw new AppError('forbidden', 'Set up your account by signing in with your organisation\'s account.');
    const user = await setup.completeLocal(req.params.code, req.body);
    return signIn(req, reply, user, '/console');
  }));

  if (!oidc) return;

  app.get<{ Querystring: typeof OidcQuery.static }>('/auth/oidc/start', { schema: { querystring: OidcQuery } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      if (req.query.setup !== undefined) await setup.inspect(req.query.setup);
      const url = await oidc.start(reply, { next: safeNext(req.query.next), setup: req.query.setup }, req.protocol === 'https');
      return reply.redirect(url, 303);
    } catch (err) {
      return reply.redirect(`/signin?error=${refusalWord(err)}`, 303);
    }
  });

  app.get<{ Querystring: Record<string, string> }>('/auth/oidc/callback', { schema: { querystring: CallbackQuery } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const { claims, back } = await oidc.finish(req, reply);
      const user = back.setup ? await setup.completeOidc(back.setup, { subject: claims.subject, email: claims.emailVerified ? claims.email : undefined, name: claims.name }) : await matchUser(claims);
      if (!user) return reply.redirect('/signin?error=not_invited', 303);
      if (user.status !== 'active') {
        await store.appendPracticeEvent({ practiceId: user.practiceId, at: now(), actor: `user:${user.id}`, type: 'signin_refused', detail: { method: 'oidc', reason: `account_${user.status}` } });
        return reply.redirect('/signin?error=disabled', 303);
      }
      const { next } = await signIn(req, reply, user, back.next);
      await store.appendPracticeEvent({ practiceId: user.practiceId, at: now(), actor: `user:${user.id}`, type: 'signed_in', detail: { method: 'oidc' } });
      return reply.redirect(next, 303);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      return reply.redirect(`/signin?error=${refusalWord(err)}`, 303);
    }
  });

  /**
   * The invited or known user this provider account is: bound by `sub`, else by e-mail only when
   * the provider vouches for it (`email_verified`), binding `sub` then.
   */
  async function matchUser(claims: OidcClaims): Promise<UserRecord | undefined> {
    const bound = await store.findUserBySubject(claims.subject);
    if (bound) return bound;
    if (!claims.emailVerified || !claims.email) return undefined;
    const user = await store.findUserByEmail(claims.email);
    // Bound to another account of the provider: not this one. Disabled: found, and refused by the caller.
    if (!user || user.oidcSubject !== null) return undefined;
    if (user.status === 'disabled') return user;
    const at = now();
    await store.updateUser(user.id, { oidcSubject: claims.subject, status: 'active' }, at);
    await store.appendPracticeEvent({ practiceId: user.practiceId, at, actor: `user:${user.id}`, type: 'account_set_up', detail: { method: 'oidc' } });
    return { ...user, oidcSubject: claims.subject, status: 'active' };
  }
}

/** The word the sign-in page turns into a message (client/signin/words.ts). */
function refusalWord(err: unknown): string {
  if (!(err instanceof AppError)) return 'refused';
  switch (err.code) {
    case 'practice_suspended': return 'suspended';
    case 'unavailable': return 'unavailable';
    case 'link_used': case 'link_expired': case 'link_not_found': return err.code;
    case 'invalid_state': return 'already_linked';
    case 'validation_failed': return 'no_verified_email';
    default: return 'refused';
  }
}
