/** The practice API (v1): create, read and end consultations, read their audit log. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Consultations } from '../consultations/service.js';
import { AppError } from '../errors.js';
import type { Rooms } from '../consultations/rooms.js';
import { maskPhone } from '../sms/phone.js';
import type { ConsultationRecord } from '../store/store.js';

const CreateBody = Type.Object(
  {
    patientPhone: Type.String({ minLength: 1, maxLength: 32 }),
    patientName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    clinicianName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const InviteBody = Type.Object(
  {
    /** What the guest is there as, shown beside their name: "Interpreter", "Carer", "Colleague"… */
    label: Type.String({ minLength: 1, maxLength: 40 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  { since: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export interface ApiDeps {
  consultations: Consultations;
  rooms: Rooms;
  apiKey: string;
  /** Requests per minute per API key (counted once the key is checked). */
  perMinute: number;
}

/** Constant-time comparison of the bearer token against the API key (hashes equalise lengths). */
function bearerMatches(req: FastifyRequest, apiKey: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer (.+)$/.exec(header);
  if (!m) return false;
  const a = createHash('sha256').update(m[1] as string).digest();
  const b = createHash('sha256').update(apiKey).digest();
  return timingSafeEqual(a, b);
}

/** One line of the console: status, SMS outcome, who waits since when; names for the clinician only. */
function summary(c: ConsultationRecord, rooms: Rooms) {
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
  app.addHook('onRequest', async (req) => {
    if (!bearerMatches(req, deps.apiKey)) {
      throw new AppError('unauthorized', 'Send the practice API key as "Authorization: Bearer <key>".');
    }
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/consultations', { schema: { body: CreateBody }, config: limit }, async (req, reply) => {
    const created = await consultations.create(req.body, 'api');
    return reply.status(201).send(created);
  });

  /** Today's consultations (or since `since`), newest first: what the clinician's console shows. */
  app.get<{ Querystring: Static<typeof ListQuery> }>('/consultations', { schema: { querystring: ListQuery }, config: limit }, async (req) => {
    const since = req.query.since ? Date.parse(req.query.since) : new Date().setHours(0, 0, 0, 0);
    return { consultations: (await consultations.list(since)).map((c) => summary(c, rooms)) };
  });

  app.post<{ Params: Static<typeof IdParams> }>('/consultations/:id/resend', { schema: { params: IdParams }, config: limit }, async (req) =>
    consultations.resend(req.params.id, 'api'));

  app.post<{ Params: Static<typeof IdParams> }>('/consultations/:id/clinician-link', { schema: { params: IdParams }, config: limit },
    async (req, reply) => reply.status(201).send(await consultations.clinicianLink(req.params.id, 'api')));

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof InviteBody> }>(
    '/consultations/:id/guests', { schema: { params: IdParams, body: InviteBody }, config: limit },
    async (req, reply) => reply.status(201).send(await consultations.invite(req.params.id, req.body, 'api')),
  );

  app.get<{ Params: Static<typeof IdParams> }>('/consultations/:id', { schema: { params: IdParams }, config: limit }, async (req) => {
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

  app.post<{ Params: Static<typeof IdParams> }>('/consultations/:id/end', { schema: { params: IdParams }, config: limit }, async (req) => {
    const c = await consultations.end(req.params.id, 'api', 'ended_by_api');
    return { id: c.id, status: c.status };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/consultations/:id/events', { schema: { params: IdParams }, config: limit }, async (req) => ({
    events: (await consultations.events(req.params.id)).map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  }));
}
