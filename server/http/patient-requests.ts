/**
 * What a patient asks with their link's code alone, without using the link up (issue #18):
 *   POST /api/v1/links/:code/identity  {dateOfBirth}  their date-of-birth check before joining;
 *   POST /api/v1/links/:code/callback                  "phone me instead", also from a used or
 *                                                       expired link's page (it proves they got the text).
 * Guessing is bounded elsewhere (a code is 128 random bits; five wrong dates lock a link; one
 * pending request per consultation): the per-address cap here only stops a flood, and is
 * generous because a mobile network puts many phones behind one address.
 */
import type { FastifyInstance } from 'fastify';
import { CODE_PATTERN } from '../auth/codes.js';
import { linkError } from '../auth/links.js';
import type { Callbacks } from '../consultations/callbacks.js';
import type { IdentityCheck } from '../consultations/identity.js';
import { CallbackReply, CodeParams, IdentityBody, IdentityReply } from './schemas.js';

export interface PatientRequestDeps {
  identity: IdentityCheck;
  callbacks: Callbacks;
}

/** Requests per minute from one address. */
const PER_ADDRESS = 60;

export async function patientRequestRoutes(app: FastifyInstance, deps: PatientRequestDeps): Promise<void> {
  const codeRe = new RegExp(CODE_PATTERN);
  const config = { rateLimit: { max: PER_ADDRESS, timeWindow: 60_000 } };
  const code = (c: string) => {
    if (!codeRe.test(c)) throw linkError('not_found');
    return c;
  };

  app.post<{ Params: CodeParams; Body: IdentityBody }>('/api/v1/links/:code/identity', {
    schema: { params: CodeParams, body: IdentityBody, response: { 200: IdentityReply } }, config,
  }, async (req, reply): Promise<IdentityReply> => {
    reply.header('cache-control', 'no-store');
    return { identity: await deps.identity.tryDate(code(req.params.code), req.body.dateOfBirth) };
  });

  app.post<{ Params: CodeParams }>('/api/v1/links/:code/callback', {
    schema: { params: CodeParams, response: { 200: CallbackReply } }, config,
  }, async (req, reply): Promise<CallbackReply> => {
    reply.header('cache-control', 'no-store');
    return { requested: true, ...(await deps.callbacks.requestByLink(code(req.params.code))) };
  });
}
