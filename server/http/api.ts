/** The practice API (v1): create, read and end consultations, read their audit log. */
import { timingSafeEqual, createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Consultations } from '../consultations/service.js';
import { AppError } from '../errors.js';
import type { Rooms } from '../consultations/rooms.js';

const CreateBody = Type.Object(
  {
    patientPhone: Type.String({ minLength: 1, maxLength: 32 }),
    patientName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    clinicianName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export interface ApiDeps {
  consultations: Consultations;
  rooms: Rooms;
  apiKey: string;
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

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { consultations, rooms } = deps;
  app.addHook('onRequest', async (req) => {
    if (!bearerMatches(req, deps.apiKey)) {
      throw new AppError('unauthorized', 'Send the practice API key as "Authorization: Bearer <key>".');
    }
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/consultations', { schema: { body: CreateBody } }, async (req, reply) => {
    const created = await consultations.create(req.body, 'api');
    return reply.status(201).send(created);
  });

  app.get<{ Params: Static<typeof IdParams> }>('/consultations/:id', { schema: { params: IdParams } }, async (req) => {
    const c = consultations.get(req.params.id);
    const live = rooms.find(c.id);
    return {
      id: c.id,
      status: c.status,
      createdAt: new Date(c.createdAt).toISOString(),
      updatedAt: new Date(c.updatedAt).toISOString(),
      expiresAt: new Date(c.expiresAt).toISOString(),
      endedReason: c.endedReason,
      participants: consultations.participants(c.id).map((p) => ({
        id: p.id, role: p.role, presence: live?.get(p.id)?.presence ?? 'checking',
      })),
    };
  });

  app.post<{ Params: Static<typeof IdParams> }>('/consultations/:id/end', { schema: { params: IdParams } }, async (req) => {
    const c = consultations.end(req.params.id, 'api', 'ended_by_api');
    return { id: c.id, status: c.status };
  });

  app.get<{ Params: Static<typeof IdParams> }>('/consultations/:id/events', { schema: { params: IdParams } }, async (req) => ({
    events: consultations.events(req.params.id).map((e) => ({ ...e, at: new Date(e.at).toISOString() })),
  }));
}
