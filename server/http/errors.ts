/**
 * One error shape for every HTTP answer: {"error":{"code","message"}}. Schema failures become
 * `validation_failed` naming the field; unknown errors a generic 500 and a log line.
 */
import type { FastifyError } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, publicError } from '../errors.js';
import { maskCodes } from './access-log.js';

/** Long enough for a database restart or failover, short enough that nobody gives up. */
export const RETRY_AFTER_SECONDS = 5;

export const errorHandling = fp(async (app) => {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      // Something the service needs is briefly away (the database restarting, the node draining): ask to come back soon.
      if (err.code === 'unavailable' && !reply.hasHeader('retry-after')) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.status(err.status).send({ error: err.toBody() });
    }
    if (err.validation) {
      const first = err.validation[0];
      const field = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : err.validationContext;
      const message = first?.keyword === 'additionalProperties'
        ? `Unknown field "${(first.params as { additionalProperty?: string }).additionalProperty}".`
        : `${field ?? 'request'} ${first?.message ?? 'is invalid'}.`;
      return reply.status(400).send({ error: { code: 'validation_failed', message } });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // Fastify's own client errors: malformed JSON, wrong content type, body too large.
      return reply.status(err.statusCode).send({ error: { code: 'validation_failed', message: err.message } });
    }
    req.log.error({ err }, 'request failed');
    return reply.status(500).send({ error: publicError(err) });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'not_found', message: `Nothing at ${req.method} ${maskCodes(req.url)}.` } });
  });
});
