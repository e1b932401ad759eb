import jwt from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';
import { type Session, SessionCookies, SessionTokens, sessionCookieName } from '../../../server/auth/session.js';
import { AppError } from '../../../server/errors.js';

const SECRET = 'session-secret-0123456789abcdef-0123456789';
const tokens = new SessionTokens(SECRET, 600);
const session: Session = { consultationId: 'cons_1', participantId: 'part_1', role: 'patient', linkHash: 'ab'.repeat(32), epoch: 0 };
const goodClaims = { typ: 'session', cid: 'cons_1', role: 'patient', lnk: 'ab'.repeat(32) };
const goodOptions: jwt.SignOptions = { algorithm: 'HS256', issuer: 'openconsult', audience: 'openconsult-browser', subject: 'part_1', expiresIn: 600 };

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function refusal(token: string): AppError {
  try {
    tokens.verify(token);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected the token to be refused');
}

describe('session tokens', () => {
  it('round-trips a session', () => {
    const token = tokens.sign(session, 600);
    expect(tokens.verify(token)).toEqual(session);
  });

  it('signs with HS256 and a short expiry', () => {
    const decoded = jwt.decode(tokens.sign(session, 600), { complete: true });
    expect(decoded?.header.alg).toBe('HS256');
    const payload = decoded?.payload as jwt.JwtPayload;
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
  });

  it('accepts a token built by hand with the right claims (the checks are not over-strict)', () => {
    expect(tokens.verify(jwt.sign(goodClaims, SECRET, goodOptions))).toEqual(session);
  });

  it('refuses a token signed with another key', () => {
    const other = new SessionTokens('another-secret-0123456789abcdef-0123456', 600).sign(session, 600);
    expect(refusal(other).code).toBe('unauthorized');
  });

  it('refuses an unsigned alg:none token', () => {
    const now = Math.floor(Date.now() / 1000);
    const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
      ...goodClaims, sub: 'part_1', iss: 'openconsult', aud: 'openconsult-browser', iat: now, exp: now + 600,
    })}.`;
    expect(refusal(token).code).toBe('unauthorized');
  });

  it('refuses a token whose payload was edited after signing', () => {
    const [h, , s] = tokens.sign(session, 600).split('.');
    const now = Math.floor(Date.now() / 1000);
    const forged = `${h}.${b64url({ ...goodClaims, role: 'clinician', sub: 'part_1', iss: 'openconsult', aud: 'openconsult-browser', iat: now, exp: now + 600 })}.${s}`;
    expect(refusal(forged).code).toBe('unauthorized');
  });

  it('refuses a token from another issuer', () => {
    expect(refusal(jwt.sign(goodClaims, SECRET, { ...goodOptions, issuer: 'someone-else' })).code).toBe('unauthorized');
  });

  it('refuses a token for another audience', () => {
    expect(refusal(jwt.sign(goodClaims, SECRET, { ...goodOptions, audience: 'openconsult-api' })).code).toBe('unauthorized');
  });

  it('refuses a token of another type', () => {
    expect(refusal(jwt.sign({ ...goodClaims, typ: 'refresh' }, SECRET, goodOptions)).code).toBe('unauthorized');
    const { typ: _typ, ...untyped } = goodClaims;
    expect(refusal(jwt.sign(untyped, SECRET, goodOptions)).code).toBe('unauthorized');
  });

  it('refuses a token with an unknown role', () => {
    expect(refusal(jwt.sign({ ...goodClaims, role: 'admin' }, SECRET, goodOptions)).code).toBe('unauthorized');
  });

  it('refuses an expired token', () => {
    expect(refusal(jwt.sign(goodClaims, SECRET, { ...goodOptions, expiresIn: -10 })).code).toBe('unauthorized');
  });

  it('refuses an HS512 token even with the right key', () => {
    expect(refusal(jwt.sign(goodClaims, SECRET, { ...goodOptions, algorithm: 'HS512' })).code).toBe('unauthorized');
  });

  it('refuses garbage', () => {
    for (const token of ['', 'not-a-jwt', 'a.b.c', `${tokens.sign(session, 600)}x`]) expect(refusal(token).code).toBe('unauthorized');
  });

  it('names the cookie after the consultation, so one browser can hold several', () => {
    expect(sessionCookieName('abc')).toBe('oc_s_abc');
    expect(sessionCookieName('abc')).not.toBe(sessionCookieName('abd'));
  });

  it('carries the session epoch; a token from before epochs existed is of the first one', () => {
    expect(tokens.verify(tokens.sign({ ...session, epoch: 3 }, 600)).epoch).toBe(3);
    expect(tokens.verify(jwt.sign(goodClaims, SECRET, goodOptions)).epoch).toBe(0);
    expect(refusal(jwt.sign({ ...goodClaims, ep: 'x' }, SECRET, goodOptions)).code).toBe('unauthorized');
  });

  it('lives until its consultation can end, at most SESSION_TTL when set, at least a second', () => {
    expect(tokens.lifetime(3_600_000)).toBe(600);
    expect(new SessionTokens(SECRET, undefined).lifetime(26 * 3_600_000)).toBe(26 * 3600);
    expect(new SessionTokens(SECRET, undefined).lifetime(-5000)).toBe(1);
  });

  it('over TLS (PUBLIC_URL https), names cookies __Host- and makes them Secure whatever the request', () => {
    const tls = new SessionCookies(true);
    expect(tls.name('abc')).toBe('__Host-oc_s_abc');
    expect(tls.consultationOf('__Host-oc_s_abc')).toBe('abc');
    expect(tls.consultationOf('oc_s_abc')).toBeUndefined();
    expect(tls.options(60, false)).toMatchObject({ secure: true, path: '/', httpOnly: true, sameSite: 'strict', maxAge: 60 });
    expect(new SessionCookies(false).options(60, false).secure).toBe(false);
    expect(new SessionCookies(false).options(60, true).secure).toBe(true);
  });
});
