/**
 * The connection check's routes (server/media/probe.ts does the media). The check runs on the
 * check step, before Join, so the link's code is what authenticates it, without being used up:
 * a code whose link is unused and unexpired, or used (the browser that holds its session
 * reloaded), of a consultation still open. A code that is neither is `link_not_found`, like a
 * guess. Each address is rate-limited, each participant capped (probe.ts). At the end the page
 * reports what it found, so the clinician sees it next to the person's name.
 */
import type { FastifyInstance } from 'fastify';
import { hashCode } from '../auth/codes.js';
import { linkError } from '../auth/links.js';
import { iceServersFor } from '../auth/turn.js';
import type { Probes } from '../media/probe.js';
import type { LinkStore } from '../store/store.js';
import type { ConnectionKind } from '../../signalling/vocabulary.js';
import {
  CodeParams, ConnectionBody, NoContent, ProbeConnectBody, ProbeParams, ProbeReply,
} from './schemas.js';

export interface ProbeRouteDeps {
  probes: Probes;
  store: Pick<LinkStore, 'findLink'>;
  isOpen: (consultationId: string) => Promise<boolean>;
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  now: () => number;
  /** A participant's check found `kind`: tell whoever sees them. */
  onKind: (consultationId: string, participantId: string, kind: ConnectionKind) => void;
  /** Requests per minute from one address (a check makes about five). */
  perMinute?: number;
}

export async function probeRoutes(app: FastifyInstance, deps: ProbeRouteDeps): Promise<void> {
  const config = { rateLimit: { max: deps.perMinute ?? 30, timeWindow: 60_000 } };

  /** Whose check this is: the link's participant, if the code may run one. */
  const holder = async (code: string): Promise<{ consultationId: string; participantId: string }> => {
    const link = await deps.store.findLink(hashCode(code));
    const usable = link !== undefined && link.revokedAt === null && (link.redeemedAt !== null || link.expiresAt > deps.now());
    if (!usable || !(await deps.isOpen(link.consultationId))) throw linkError('not_found');
    return link;
  };

  app.post<{ Params: CodeParams }>('/api/v1/links/:code/probe', { schema: { params: CodeParams, response: { 200: ProbeReply } }, config },
    async (req): Promise<ProbeReply> => {
      const { participantId } = await holder(req.params.code);
      const probe = await deps.probes.create(participantId);
      return { ...probe, iceServers: iceServersFor(deps.turnUrls, deps.turnSecret, participantId, deps.now()) };
    });

  app.post<{ Params: ProbeParams; Body: ProbeConnectBody }>('/api/v1/links/:code/probe/:id/connect',
    { schema: { params: ProbeParams, body: ProbeConnectBody, response: { 204: NoContent } }, config },
    async (req, reply) => {
      const { participantId } = await holder(req.params.code);
      await deps.probes.connect(participantId, req.params.id, req.body.dtlsParameters);
      return reply.status(204).send();
    });

  app.delete<{ Params: ProbeParams }>('/api/v1/links/:code/probe/:id', { schema: { params: ProbeParams, response: { 204: NoContent } }, config },
    async (req, reply) => {
      const { participantId } = await holder(req.params.code);
      deps.probes.close(participantId, req.params.id);
      return reply.status(204).send();
    });

  app.post<{ Params: CodeParams; Body: ConnectionBody }>('/api/v1/links/:code/connection',
    { schema: { params: CodeParams, body: ConnectionBody, response: { 204: NoContent } }, config },
    async (req, reply) => {
      const { consultationId, participantId } = await holder(req.params.code);
      deps.probes.record(participantId, req.body.kind);
      deps.onKind(consultationId, participantId, req.body.kind);
      return reply.status(204).send();
    });
}
