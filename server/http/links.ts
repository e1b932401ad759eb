/**
 * One-time links. GET /j/:code only serves the page (SMS apps and link scanners fetch URLs);
 * the page's script redeems the code with a POST, which consumes it exactly once and sets the
 * session cookie. A browser that already holds the session from that link gets it back.
 * The GET looks the code up (without using it) to pick which build of the page to serve.
 *
 * The rate limit counts only what guessing looks like: refused redemptions (unknown, malformed,
 * used or expired codes, and a GET whose code would not redeem), per address. Valid redemptions
 * never count: a mobile network puts many phones behind one address (carrier-grade NAT), as a
 * practice's reception PCs share one. Past the limit the address is refused before any lookup,
 * so a guesser learns nothing, valid codes included, until the window ends.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CODE_PATTERN, hashCode } from '../auth/codes.js';
import { linkError } from '../auth/links.js';
import type { Session, SessionTokens } from '../auth/session.js';
import type { Consultations } from '../consultations/service.js';
import { AppError } from '../errors.js';
import { type LinkPage, linkPageFiles } from './link-page.js';
import type { IdentityCheck } from '../consultations/identity.js';
import { CodeParams, HtmlPage, NoContent, RedeemReply } from './schemas.js';

export interface LinkDeps {
  consultations: Consultations;
  tokens: SessionTokens;
  /** Refused redemptions per minute per address: codes cannot be guessed, but a flood still costs us. */
  redeemPerMinute: number;
  /** Counts each attempt by outcome: `ok`, `resumed`, or the refusal's error code. */
  onRedeem?: (result: string) => void;
  /** The patient's date-of-birth check: their link redeems only once it is confirmed. */
  identity: IdentityCheck;
}

/** A session cookie of ours, with its session if it may still be used (open, not revoked). */
interface HeldCookie {
  name: string;
  session: Session | undefined;
}

/**
 * Every session cookie of ours in this request, each checked: an expired, forged, revoked or
 * closed consultation's cookie comes back without its session. A clinician's browser collects
 * one cookie per consultation; those that are done are expired on the next link, so the
 * request headers never outgrow the server's or a proxy's limit.
 */
async function heldCookies(req: FastifyRequest, tokens: SessionTokens, consultations: Consultations): Promise<HeldCookie[]> {
  const held: HeldCookie[] = [];
  for (const [name, value] of Object.entries(req.cookies)) {
    const cid = tokens.cookies.consultationOf(name);
    if (cid === undefined) continue;
    let session: Session | undefined;
    try {
      const s = tokens.verify(value ?? '');
      if (s.consultationId === cid) {
        await consultations.checkSession(s);
        session = s;
      }
    } catch (err) {
      if (!(err instanceof AppError)) throw err; // a store failure says nothing about the cookie
    }
    held.push({ name, session });
  }
  return held;
}

export async function linkRoutes(app: FastifyInstance, deps: LinkDeps): Promise<void> {
  const { consultations, tokens } = deps;
  const codeRe = new RegExp(CODE_PATTERN);

  // The cookie lives as long as its consultation can (SESSION_TTL at most); Secure when PUBLIC_URL
  // is https or the browser reached us over TLS.
  const setSession = async (req: FastifyRequest, reply: FastifyReply, s: Session) => {
    const lifetime = tokens.lifetime(await consultations.timeLeft(await consultations.get(s.consultationId)));
    reply.setCookie(tokens.cookies.name(s.consultationId), tokens.sign(s, lifetime), tokens.cookies.options(lifetime, req.protocol === 'https'));
  };

  /**
   * This browser's session from this link (a code, if it is one), if it may still be used; the
   * cookies of sessions that are done are expired on the way.
   */
  async function sessionFromLink(req: FastifyRequest, reply: FastifyReply, code: string): Promise<Session | undefined> {
    const live = await expireDone(req, reply);
    if (!codeRe.test(code)) return undefined;
    const linkHash = hashCode(code);
    return live.find((s) => s.linkHash === linkHash);
  }

  /** Expires this request's cookies of sessions that are done; the sessions still in use. */
  async function expireDone(req: FastifyRequest, reply: FastifyReply): Promise<Session[]> {
    const live: Session[] = [];
    for (const { name, session } of await heldCookies(req, tokens, consultations)) {
      if (session) live.push(session);
      else reply.clearCookie(name, tokens.cookies.options(0, req.protocol === 'https'));
    }
    return live;
  }

  // The ended screen asks for this, so the cookie of a consultation that is over goes at once
  // rather than on the browser's next link. It says nothing back, whatever the browser held.
  app.post('/api/v1/sessions/expire-done', { schema: { response: { 204: NoContent } } }, async (req, reply) => {
    await expireDone(req, reply);
    return reply.status(204).send();
  });

  // Made on the first request: @fastify/rate-limit (registered by the app) provides it.
  let limiter: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  const refusals: NonNullable<typeof limiter> = (req, opts) => {
    limiter ??= app.createRateLimit({ max: deps.redeemPerMinute, timeWindow: 60_000 });
    return limiter(req, opts);
  };
  /** Seconds until an address that has used up its refusals may try again; undefined if it may now. */
  async function refusedFor(req: FastifyRequest): Promise<number | undefined> {
    const limit = await refusals(req, { increment: false });
    return !limit.isAllowed && limit.remaining === 0 ? Math.max(1, limit.ttlInSeconds) : undefined;
  }

  // No schema: any path serves a page; a code that is not one (codeRe) just is not usable.
  app.get<{ Params: { code: string } }>('/j/:code', { schema: { response: { 200: HtmlPage } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // @fastify/static would otherwise replace our cache-control: the URL holds a live code.
    return reply.sendFile(linkPageFiles[await linkPage(req.params.code, req, reply)], { cacheControl: false });
  });

  /**
   * Which build of the page to serve; uses nothing up, but a code that would not redeem counts as
   * a refusal (the GET would otherwise tell a guesser what the POST does). An address past its
   * limit looks nothing up: its page then hears 429 from the redemption. Cookies of sessions that
   * are done are expired on the way.
   */
  async function linkPage(code: string, req: FastifyRequest, reply: FastifyReply): Promise<LinkPage> {
    if (await refusedFor(req) !== undefined) return 'refused';
    const held = await sessionFromLink(req, reply, code);
    if (held) return 'held';
    if (codeRe.test(code) && await consultations.linkUsable(code)) {
      // A locked link is refused: the page asks the redemption why (identity_locked).
      const state = (await deps.identity.ofLink(code))?.state;
      return state === 'pending' ? 'identity' : state === 'failed' ? 'refused' : 'fresh';
    }
    await refusals(req);
    return 'refused';
  }

  app.post<{ Params: CodeParams }>('/api/v1/links/:code/redeem', {
    schema: { params: CodeParams, response: { 200: RedeemReply } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const wait = await refusedFor(req);
    if (wait !== undefined) {
      reply.header('retry-after', wait);
      throw new AppError('rate_limited', `Too many links that could not be used. Try again in ${wait} seconds.`);
    }
    try {
      const answer = await redeemOnce(req.params.code, req, reply);
      deps.onRedeem?.(answer.resumed ? 'resumed' : 'ok');
      return answer;
    } catch (err) {
      deps.onRedeem?.(err instanceof AppError ? err.code : 'error');
      if (err instanceof AppError) await refusals(req);
      throw err;
    }
  });

  async function redeemOnce(code: string, req: FastifyRequest, reply: FastifyReply): Promise<RedeemReply> {
    const held = await sessionFromLink(req, reply, code);
    if (!codeRe.test(code)) throw linkError('not_found');
    if (held) {
      await setSession(req, reply, held);
      return { role: held.role, consultationId: held.consultationId, participantId: held.participantId, resumed: true };
    }
    const asked = await deps.identity.ofLink(code);
    if (asked) await deps.identity.ensureConfirmed(asked.link.consultationId, asked.role);
    const r = await consultations.redeem(code);
    await setSession(req, reply, r);
    return { role: r.role, consultationId: r.consultationId, participantId: r.participantId, resumed: false };
  }
}
