/**
 * Browsers' reports: from admission to the first remote video frame, how their media flows, and
 * in a call of two when media reached the direct connection or why the page gave up on it.
 * Only a browser holding a session may report (the page sends its cookie: same origin), so
 * nobody outside a consultation can skew the figures; the role counted is the session's.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Session, type SessionTokens, sessionCookieName } from '../auth/session.js';
import { AppError } from '../errors.js';
import type { Metrics } from '../metrics/registry.js';
import { observeFirstFrame, observeP2pPath } from '../metrics/observers.js';
import { FirstFrameBody, NoContent, P2pPathBody } from './schemas.js';

export interface TelemetryDeps {
  metrics: Metrics;
  tokens: SessionTokens;
  /** First-frame reports accepted per minute from one address. */
  reportsPerMinute?: number;
}

/** Every session cookie is named with this prefix and its consultation. */
const SESSION_PREFIX = sessionCookieName('');

/** The first valid session among the request's session cookies. */
function sessionOf(req: FastifyRequest, tokens: SessionTokens): Session | undefined {
  for (const [name, value] of Object.entries(req.cookies)) {
    if (!name.startsWith(SESSION_PREFIX) || !value) continue;
    try {
      return tokens.verify(value);
    } catch {
      // expired or foreign: try the next one
    }
  }
  return undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    reporter?: Session;
  }
}

export async function telemetryRoutes(app: FastifyInstance, deps: TelemetryDeps): Promise<void> {
  const guarded = {
    config: { rateLimit: { max: deps.reportsPerMinute ?? 30, timeWindow: 60_000 } },
    // Before the body is read: a request without a session is refused whatever it carries.
    onRequest: async (req: FastifyRequest) => {
      const session = sessionOf(req, deps.tokens);
      if (!session) throw new AppError('unauthorized', 'Reports come from a page in a consultation.');
      req.reporter = session;
    },
  };
  app.post<{ Body: FirstFrameBody }>('/api/v1/telemetry/first-frame', {
    schema: { body: FirstFrameBody, response: { 204: NoContent } },
    ...guarded,
  }, async (req, reply) => {
    observeFirstFrame(deps.metrics, { ...req.body, role: req.reporter?.role ?? req.body.role });
    return reply.status(204).send();
  });
  app.post<{ Body: P2pPathBody }>('/api/v1/telemetry/p2p', {
    schema: { body: P2pPathBody, response: { 204: NoContent } },
    ...guarded,
  }, async (req, reply) => {
    const b = req.body;
    observeP2pPath(deps.metrics, b.outcome === 'direct' ? { ...b, role: req.reporter?.role ?? 'unknown' } : b);
    return reply.status(204).send();
  });
}
