/**
 * One-time links. GET /j/:code only serves the page (SMS apps and link scanners fetch URLs);
 * the page's script redeems the code with a POST, which consumes it exactly once and sets the
 * session cookie. A browser that already holds the session from that link gets it back.
 * The GET looks the code up (without using it) to pick which build of the page to serve.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CODE_PATTERN, hashCode } from '../auth/codes.js';
import { linkError } from '../auth/links.js';
import type { Session, SessionTokens } from '../auth/session.js';
import type { Consultations } from '../consultations/service.js';
import { AppError } from '../errors.js';
import { USABLE_LINK_PAGE } from './link-page.js';
import { CodeParams, HtmlPage, RedeemReply } from './schemas.js';

export interface LinkDeps {
  consultations: Consultations;
  tokens: SessionTokens;
  /** Redemptions per minute per IP: codes cannot be guessed, but a flood still costs us. */
  redeemPerMinute: number;
  /** Counts each attempt by outcome: `ok`, `resumed`, or the refusal's error code. */
  onRedeem?: (result: string) => void;
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
    const linkHash = codeRe.test(code) ? hashCode(code) : undefined;
    let found: Session | undefined;
    for (const { name, session } of await heldCookies(req, tokens, consultations)) {
      if (!session) reply.clearCookie(name, tokens.cookies.options(0, req.protocol === 'https'));
      else if (linkHash !== undefined && session.linkHash === linkHash) found = session;
    }
    return found;
  }

  // No schema: any path serves a page; a code that is not one (codeRe) just is not usable.
  app.get<{ Params: { code: string } }>('/j/:code', { schema: { response: { 200: HtmlPage } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // @fastify/static would otherwise replace our cache-control: the URL holds a live code.
    return reply.sendFile(await usable(req.params.code, req, reply) ? USABLE_LINK_PAGE : 'join.html', { cacheControl: false });
  });

  /** Whether redeeming would succeed now (a fresh link, or this browser's session from it); uses nothing up. */
  async function usable(code: string, req: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    const held = await sessionFromLink(req, reply, code);
    if (!codeRe.test(code)) return false;
    return held !== undefined || consultations.linkUsable(code);
  }

  app.post<{ Params: CodeParams }>('/api/v1/links/:code/redeem', {
    schema: { params: CodeParams, response: { 200: RedeemReply } },
    config: { rateLimit: { max: deps.redeemPerMinute, timeWindow: 60_000 } },
  }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const answer = await redeemOnce(req.params.code, req, reply);
      deps.onRedeem?.(answer.resumed ? 'resumed' : 'ok');
      return answer;
    } catch (err) {
      deps.onRedeem?.(err instanceof AppError ? err.code : 'error');
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
    const r = await consultations.redeem(code);
    await setSession(req, reply, r);
    return { role: r.role, consultationId: r.consultationId, participantId: r.participantId, resumed: false };
  }
}
