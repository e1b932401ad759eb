/**
 * Browser sessions: after a link is redeemed the browser holds an HS256 JWT in an httpOnly
 * cookie named for its consultation, so one browser can hold several consultations (a
 * clinician's day) without one session overwriting another. Verification pins the algorithm,
 * issuer, audience and type (RFC 8725).
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
}

interface Claims {
  typ: string;
  cid: string;
  role: Role;
  lnk: string;
}

const COOKIE_PREFIX = 'oc_s_';

export function sessionCookieName(consultationId: string): string {
  return `${COOKIE_PREFIX}${consultationId}`;
}

export class SessionTokens {
  /** A KeyObject made once: given a string, jsonwebtoken tries to parse it as a PEM key on every call. */
  private readonly secret: KeyObject;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.secret = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  get ttl(): number {
    return this.ttlSeconds;
  }

  sign(s: Session): string {
    const claims: Claims = { typ: TYPE, cid: s.consultationId, role: s.role, lnk: s.linkHash };
    return jwt.sign(claims, this.secret, {
      algorithm: 'HS256',
      issuer: ISSUER,
      audience: AUDIENCE,
      subject: s.participantId,
      expiresIn: this.ttlSeconds,
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
      !isOneOf(roles, payload.role)
    ) {
      throw new AppError('unauthorized', 'This session is not valid.');
    }
    return { consultationId: payload.cid, participantId: payload.sub, role: payload.role, linkHash: payload.lnk };
  }
}
