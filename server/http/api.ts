/** The practice API (v1): create, read and end consultations, read their audit log. */
import type { FastifyInstance, FastifySchema } from 'fastify';
import type { Consultations } from '../consultations/service.js';
import type { Rooms } from '../consultations/rooms.js';
import { maskPhone } from '../sms/phone.js';
import type { ConsultationRecord } from '../store/store.js';
import { requireBearer } from './bearer.js';
import {
  ClinicianLinkReply, ConsultationList, ConsultationReply, type ConsultationSummary, CreateBody, CreatedReply, EndReply, EventsReply,
  IdParams, InviteBody, InviteReply, ListQuery, ResendReply,
} from './schemas.js';

export interface ApiDeps {
  consultations: Consultations;
  rooms: Rooms;
  apiKey: string;
  /** Requests per minute per API key (counted once the key is checked). */
  perMinute: number;
}

/** One line of the console: status, SMS outcome, who waits since when; names for the clinician only. */
function summary(c: ConsultationRecord, rooms: Rooms): ConsultationSummary {
  const live = rooms.find(c.id);
  const waiting = live?.list().filter((m) => m.presence === 'waiting') ?? [];
  return {
    id: c.id,
    status: c.status,
    sms: c.smsStatus ?? null,
    patientName: c.patientName,
    patientPhone: c.patientPhone ? maskPhone(c.patientPhone) : null,
    createdAt: new Date(c.createdAt).toISOString(),
    expiresAt: new Date(c.expiresAt).toISOString(),
    endedReason: c.endedReason,
    waitingSince: waiting.length ? new Date(Math.min(...waiting.map((m) => m.waitingSince ?? Date.now()))).toISOString() : null,
    inCall: live?.admitted().length ?? 0,
  };
}

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { consultations, rooms } = deps;
  // One bucket: there is one practice API key, and requests count only once it is checked.
  const limit = { rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: () => 'practice-api-key' } };
  const route = (schema: FastifySchema) => ({ schema, config: limit });
  await app.register(requireBearer, { secret: deps.apiKey, message: 'Send the practice API key as "Authorization: Bearer <key>".' });

  app.post<{ Body: CreateBody }>('/consultations', route({ body: CreateBody, response: { 201: CreatedReply } }), async (req, reply) => {
    const created: CreatedReply = await consultations.create(req.body, 'api');
    return reply.status(201).send(created);
  });

  /** Today's consultations (or since `since`), newest first: what the clinician's console shows. */
  app.get<{ Querystring: ListQuery }>('/consultations', route({ querystring: ListQuery, response: { 200: ConsultationList } }),
    async (req): Promise<ConsultationList> => {
      const since = req.query.since ? Date.parse(req.query.since) : new Date().setHours(0, 0, 0, 0);
      return { consultations: (await consultations.list(since)).map((c) => summary(c, rooms)) };
    });

  app.post<{ Params: IdParams }>('/consultations/:id/resend', route({ params: IdParams, response: { 200: ResendReply } }),
    async (req): Promise<ResendReply> => consultations.resend(req.params.id, 'api'));

  app.post<{ Params: IdParams }>('/consultations/:id/clinician-link', route({ params: IdParams, response: { 201: ClinicianLinkReply } }),
    async (req, reply) => {
      const link: ClinicianLinkReply = await consultations.clinicianLink(req.params.id, 'api');
      return reply.status(201).send(link);
    });

  app.post<{ Params: IdParams; Body: InviteBody }>('/consultations/:id/guests',
    route({ params: IdParams, body: InviteBody, response: { 201: InviteReply } }),
    async (req, reply) => {
      const invited: InviteReply = await consultations.invite(req.params.id, req.body, 'api');
      return reply.status(201).send(invited);
    });

  app.get<{ Params: IdParams }>('/consultations/:id', route({ params: IdParams, response: { 200: ConsultationReply } }),
    async (req): Promise<ConsultationReply> => {
      const c = await consultations.get(req.params.id);
      const live = rooms.find(c.id);
      return {
        id: c.id,
        status: c.status,
        createdAt: new Date(c.createdAt).toISOString(),
        updatedAt: new Date(c.updatedAt).toISOString(),
        expiresAt: new Date(c.expiresAt).toISOString(),
        endedReason: c.endedReason,
        participants: (await consultations.participants(c.id)).map((p) => ({
          id: p.id, role: p.role, presence: live?.get(p.id)?.presence ?? 'checking',
        })),
      };
    });

  app.post<{ Params: IdParams }>('/consultations/:id/end', route({ params: IdParams, response: { 200: EndReply } }),
    async (req): Promise<EndReply> => {
      const c = await consultations.end(req.params.id, 'api', 'ended_by_api');
      return { id: c.id, status: c.status };
    });

  app.get<{ Params: IdParams }>('/consultations/:id/events', route({ params: IdParams, response: { 200: EventsReply } }),
    async (req): Promise<EventsReply> => ({
      events: (await consultations.events(req.params.id)).map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
    }));
}
