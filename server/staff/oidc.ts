/**
 * Staff sign-in with OpenID Connect (NHS CIS2, Microsoft Entra ID): authorisation code with
 * PKCE, state and nonce, by `openid-client` (which checks the ID token's signature, issuer,
 * audience, expiry and nonce). What the round trip needs to remember (state, nonce, PKCE verifier,
 * where to go next, a set-up code) travels in a short-lived httpOnly cookie, signed (HS256) so it
 * cannot be forged, SameSite=Lax so it comes back with the provider's redirect.
 *
 * Discovery happens once, at start; if the provider is down the service still starts and the
 * next sign-in tries again.
 */
import { createHmac, type KeyObject, createSecretKey } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import jwt from 'jsonwebtoken';
import * as client from 'openid-client';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';

export interface OidcOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string;
  /** Base of our own URLs (PUBLIC_URL): the redirect URI is registered with the provider under it. */
  publicUrl: () => string;
  /** The service's session secret: the state cookie's key is derived from it. */
  secret: string;
  secure: boolean;
  logger: Logger;
}

/** What the provider says about who signed in (ID token claims). */
export interface OidcClaims {
  subject: string;
  email?: string | undefined;
  emailVerified: boolean;
  name?: string | undefined;
}

/** Where the sign-in began: the page to go back to, or the set-up link it finishes. */
export interface OidcReturn { next: string; setup?: string | undefined }

interface StateClaims { typ: 'oidc-state'; st: string; nn: string; pv: string; nx: string; su?: string }

const STATE_TTL_SECONDS = 600;
const AUDIENCE = 'openconsult-oidc-state';
export const CALLBACK_PATH = '/auth/oidc/callback';

const isLoopback = (u: URL) => ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);

export class OidcSignin {
  private discovered: Promise<client.Configuration> | undefined;
  private readonly key: KeyObject;
  readonly cookieName: string;

  constructor(private readonly opts: OidcOptions) {
    // A key of its own: a state cookie can never pass for a consultation session, or back.
    this.key = createSecretKey(createHmac('sha256', opts.secret).update('oidc-state').digest());
    // __Secure-, not __Host-: the cookie is scoped to /auth/oidc, and __Host- demands Path=/.
    this.cookieName = opts.secure ? '__Secure-oc_oidc' : 'oc_oidc';
  }

  /** Discovers the provider now (at start); a failure is logged and retried on the next sign-in. */
  warmUp(): void {
    void this.configuration().catch(() => undefined);
  }

  private configuration(): Promise<client.Configuration> {
    this.discovered ??= (async () => {
      const issuer = new URL(this.opts.issuer);
      // Plain http only for a provider on this machine (tests, a local proxy): never across a network.
      const insecure = issuer.protocol === 'http:' && isLoopback(issuer);
      return client.discovery(issuer, this.opts.clientId, undefined, client.ClientSecretBasic(this.opts.clientSecret),
        insecure ? { execute: [client.allowInsecureRequests] } : undefined);
    })().catch((err: unknown) => {
      this.discovered = undefined;
      this.opts.logger.error({ err: String(err) }, 'OpenID Connect discovery failed; it is tried again at the next sign-in');
      throw new AppError('unavailable', 'Signing in with your organisation\'s account is not available just now. Try again in a minute.');
    });
    return this.discovered;
  }

  private redirectUri(): string {
    return `${this.opts.publicUrl()}${CALLBACK_PATH}`;
  }

  /** The provider's authorisation URL for a new sign-in; the state cookie is set on `reply`. */
  async start(reply: FastifyReply, back: OidcReturn, requestIsTls: boolean): Promise<string> {
    const config = await this.configuration();
    const pv = client.randomPKCECodeVerifier();
    const claims: StateClaims = {
      typ: 'oidc-state', st: client.randomState(), nn: client.randomNonce(), pv, nx: back.next, ...(back.setup ? { su: back.setup } : {}),
    };
    const token = jwt.sign(claims, this.key, { algorithm: 'HS256', audience: AUDIENCE, expiresIn: STATE_TTL_SECONDS });
    reply.setCookie(this.cookieName, token, {
      path: '/auth/oidc', httpOnly: true, sameSite: 'lax', secure: this.opts.secure || requestIsTls, maxAge: STATE_TTL_SECONDS,
    });
    return client.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri(), scope: this.opts.scopes, state: claims.st, nonce: claims.nn,
      code_challenge: await client.calculatePKCECodeChallenge(pv), code_challenge_method: 'S256',
    }).href;
  }

  /**
   * Finishes a sign-in from the provider's redirect: the state cookie must match, then the code is
   * exchanged (with the PKCE verifier) and the ID token checked. The state cookie is used up.
   */
  async finish(req: FastifyRequest<{ Querystring: Record<string, string> }>, reply: FastifyReply): Promise<{ claims: OidcClaims; back: OidcReturn }> {
    const config = await this.configuration();
    const raw = req.cookies[this.cookieName];
    reply.clearCookie(this.cookieName, { path: '/auth/oidc' });
    let state: StateClaims;
    try {
      state = jwt.verify(raw ?? '', this.key, { algorithms: ['HS256'], audience: AUDIENCE }) as StateClaims;
      if (state.typ !== 'oidc-state') throw new Error('not a state cookie');
    } catch {
      throw new AppError('unauthorized', 'This sign-in took too long or began in another browser. Start again.');
    }
    const current = new URL(this.redirectUri());
    for (const [k, v] of Object.entries(req.query)) current.searchParams.set(k, v);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: state.pv, expectedState: state.st, expectedNonce: state.nn, idTokenExpected: true,
      });
    } catch (err) {
      // Why goes to the log (no personal data in these errors); the person is told to start again.
      this.opts.logger.warn({ reason: err instanceof Error ? `${err.name}: ${err.message}` : 'unknown' }, 'OpenID Connect sign-in refused');
      throw new AppError('unauthorized', 'Your organisation\'s sign-in did not complete. Start again.');
    }
    const c = tokens.claims();
    if (!c) throw new AppError('unauthorized', 'Your organisation\'s sign-in did not complete. Start again.');
    return {
      claims: {
        subject: c.sub,
        email: typeof c.email === 'string' ? c.email : undefined,
        emailVerified: c.email_verified === true,
        name: typeof c.name === 'string' ? c.name : undefined,
      },
      back: { next: state.nx, setup: state.su },
    };
  }
}
