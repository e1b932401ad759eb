/**
 * Bearer-token checks: the practice API key on /api/v1, the optional metrics token on /metrics.
 * One constant-time comparison for both (hashing first equalises the lengths).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

function bearerMatches(req: FastifyRequest, secret: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1] as string).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

export interface BearerOptions {
  secret: string;
  /** What a refused request is told (`unauthorized`): which token to send. */
  message: string;
}

/** Refuses, before anything else runs, every request of the scope it is registered in that lacks the token. */
export const requireBearer = fp<BearerOptions>(async (app, opts) => {
  app.addHook('onRequest', async (req) => {
    if (!bearerMatches(req, opts.secret)) throw new AppError('unauthorized', opts.message);
  });
});
