/**
 * Browser sessions: after a link is redeemed the browser holds an HS256 JWT in an httpOnly
 * cookie named for its consultation, so one browser can hold several consultations (a
 * clinician's day) without one session overwriting another. Verification pins the algorithm,
 * issuer, audience and type (RFC 8725). A session names the epoch it was issued in: the store
 * bumps a participant's epoch to revoke every earlier session of theirs (checked by the service).
 */
import { type KeyObject, createSecretKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { AppError } from '../errors.js';
import { type Role, isOneOf, roles } from '../../signalling/vocabulary.js';

const ISSUER = 'openconsult';
const AUDIENCE = 'openconsult-browser';
const TYPE = 'session';

export interface Session {
  consultationId: string;
  participantId: string;
  role: Role;
  /** Hash of the link this session came from, so the same browser can reopen that link. */
  linkHash: string;
  /** The participant's session epoch when this was issued; a later one revokes it. */
  epoch: number;
}

interface Claims {
  typ: string;
  cid: string;
  role: Role;
  lnk: string;
  ep: number;
}

const COOKIE_PREFIX = 'oc_s_';
/** Over TLS the browser then refuses the cookie unless it is Secure, host-only and for path / (no subdomain can plant one). */
const HOST_PREFIX = '__Host-';

/**
 * The one place session cookies are named and shaped. `secure` comes from PUBLIC_URL's scheme:
 * behind a TLS-terminating proxy the request alone may look like plain http.
 */
export class SessionCookies {
  private readonly prefix: string;

  constructor(readonly secure: boolean) {
    this.prefix = (secure ? HOST_PREFIX : '') + COOKIE_PREFIX;
  }

  name(consultationId: string): string {
    return `${this.prefix}${consultationId}`;
  }

  /** The consultation a cookie of ours is for, or undefined for anyone else's cookie. */
  consultationOf(cookieName: string): string | undefined {
    return cookieName.startsWith(this.prefix) ? cookieName.slice(this.prefix.length) : undefined;
  }

  /** Attributes for a session cookie that lives `maxAgeSeconds` (0 expires it). */
  options(maxAgeSeconds: number, requestIsTls: boolean) {
    return {
      path: '/', httpOnly: true, sameSite: 'strict' as const, secure: this.secure || requestIsTls, maxAge: maxAgeSeconds,
    };
  }
}

/** The name of a consultation's session cookie (`secure`: PUBLIC_URL is https). */
export function sessionCookieName(consultationId: string, secure = false): string {
  return new SessionCookies(secure).name(consultationId);
}

export class SessionTokens {
  /** A KeyObject made once: given a string, jsonwebtoken tries to parse it as a PEM key on every call. */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    /** SESSION_TTL: an upper bound, if set; otherwise a session lives as long as its consultation may. */
    private readonly maxTtlSeconds: number | undefined,
    readonly cookies = new SessionCookies(false),
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  /** A session's lifetime in seconds for a consultation with `msLeft` to run: at least 1, at most SESSION_TTL. */
  lifetime(msLeft: number): number {
    const left = Math.max(1, Math.ceil(msLeft / 1000));
    return this.maxTtlSeconds === undefined ? left : Math.min(left, this.maxTtlSeconds);
  }

  sign(s: Session, lifetimeSeconds: number): string {
    const claims: Claims = { typ: TYPE, cid: s.consultationId, role: s.role, lnk: s.linkHash, ep: s.epoch };
    return jwt.sign(claims, this.secret, {
      algorithm: 'HS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: s.participantId,
      expiresIn: lifetimeSeconds,
    });
  }

  /** Throws `unauthorized` for anything but a valid, unexpired session token of ours. */
  verify(token: string): Session {
    let payload: jwt.JwtPayload | string;
    try {
      payload = jwt.verify(token, this.secret, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE });
    } catch {
      throw new AppError('unauthorized', 'Your session has ended. Open the link from your message again or ask the practice for a new one.');
    }
    if (
      typeof payload !== 'object' || payload.typ !== TYPE || typeof payload.sub !== 'string' ||
      typeof payload.cid !== 'string' || typeof payload.lnk !== 'string' ||
      (payload.ep !== undefined && !Number.isSafeInteger(payload.ep)) || !isOneOf(roles, payload.role)
    ) {
      throw new AppError('unauthorized', 'This session is not valid.');
    }
    return { consultationId: payload.cid, participantId: payload.sub, role: payload.role, linkHash: payload.lnk,
      // Tokens from before epochs existed belong to the first epoch, so an upgrade drops no call.
      epoch: (payload.ep as number | undefined) ?? 0 };
  }
}
