/**
 * The practice API (v1): create, read and end consultations, read their audit log. Every request
 * is a practice's API key or a signed-in member of its staff (./principal.ts), and sees only that
 * practice: a consultation of another practice is the same 404 as one that does not exist.
 * Each route names the right it needs (server/auth/permissions.ts).
 */
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { type Permission, demand } from '../auth/permissions.js';
import { actorOf, userIdOf } from '../auth/principal.js';
import type { Consultations, Holder } from '../consultations/service.js';
import type { RoomView } from '../cluster/cluster.js';
import { AppError } from '../errors.js';
import { maskPhone } from '../sms/phone.js';
import type { ConsultationRecord, ConsultationStore, PracticeStore, SmsDeliveryRecord, SmsDeliveryStore, UserStore } from '../store/store.js';
import { type PrincipalDeps, requirePrincipal } from './principal.js';
import {
  ClinicianLinkReply, ConsultationList, ConsultationReply, type ConsultationSummary, CreateBody, CreatedReply, EndReply, EventsReply,
  IdParams, InviteBody, InviteReply, ListQuery, ResendReply,
} from './schemas.js';
import { CallbackDoneReply } from './schemas.js';
import type { Callbacks } from '../consultations/callbacks.js';
import type { IdentityCheck } from '../consultations/identity.js';

export interface ApiDeps extends PrincipalDeps {
  consultations: Consultations;
  /** What is shown of the live rooms of these consultations, wherever in the region they are held. */
  roomViews: (ids: readonly string[]) => Promise<Map<string, RoomView>>;
  store: Pick<PracticeStore, 'getPractice'> & Pick<UserStore, 'getUser' | 'findUserByEmail'> & Pick<ConsultationStore, 'assignClinician'>
    & Pick<SmsDeliveryStore, 'latestSmsDeliveries'>;
  /** Requests per minute per API key or signed-in person (counted once they are known). */
  perMinute: number;
  /** The patient's identity check and phone-me-instead requests (issue #18). */
  identity: IdentityCheck;
  callbacks: Callbacks;
}

/** What the console shows of the patient's identity check and phone-me-instead request. */
async function patientChecks(deps: Pick<ApiDeps, 'identity' | 'callbacks'>, ids: readonly string[]) {
  const [states, pending] = await Promise.all([deps.identity.statesOf(ids), deps.callbacks.pendingOf(ids)]);
  return (id: string): Pick<ConsultationSummary, 'identity' | 'callbackRequestedAt'> => {
    const at = pending.get(id);
    return { identity: states.get(id) ?? 'not_required', callbackRequestedAt: at === undefined ? null : new Date(at).toISOString() };
  };
}

/** One line of the console: status, SMS outcome, who waits since when; names for the practice only. */
function summary(c: ConsultationRecord, room: RoomView | undefined): Omit<ConsultationSummary, 'identity' | 'callbackRequestedAt'> {
  const waiting = room?.members.filter((m) => m.presence === 'waiting') ?? [];
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
    inCall: room?.members.filter((m) => m.presence === 'admitted').length ?? 0,
  };
}

/** The delivery of a text, for the API: null when nothing is known of it. */
function deliveryView(d: SmsDeliveryRecord | undefined): { status: SmsDeliveryRecord['status']; at: string } | null {
  return d ? { status: d.status, at: new Date(d.statusAt).toISOString() } : null;
}

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const { consultations, roomViews } = deps;
  // One bucket per key or person: one busy practice system does not slow another practice.
  const limit = {
    rateLimit: { max: deps.perMinute, timeWindow: 60_000, keyGenerator: (req: FastifyRequest) => actorOf(req.principal) },
  };
  const route = (schema: FastifySchema) => ({ schema, config: limit });
  await app.register(requirePrincipal, deps);

  /** The consultation of `:id` if the asker's practice holds it and the asker holds `right`. */
  const own = async (req: FastifyRequest<{ Params: IdParams }>, right: Permission) => {
    demand(req.principal, right);
    return consultations.getIn(req.principal.practiceId, req.params.id);
  };

  /** Who a new consultation is for: the signed-in clinician, or the clinician the request names. */
  const holderOf = async (req: FastifyRequest<{ Body: CreateBody }>): Promise<Holder> => {
    const p = req.principal;
    const practice = await deps.store.getPractice(p.practiceId);
    if (!practice) throw new AppError('unauthorized', 'Your practice is not known to this service.');
    if (req.body.clinicianEmail !== undefined) {
      const u = await deps.store.findUserByEmail(req.body.clinicianEmail);
      if (!u || u.practiceId !== p.practiceId || u.status === 'disabled' || !u.roles.includes('clinician')) {
        throw new AppError('validation_failed', 'There is no clinician with that e-mail address in this practice.');
      }
      return { practice, owner: { userId: u.id, displayName: u.displayName } };
    }
    if (p.kind === 'user' && p.roles.includes('clinician')) {
      return { practice, owner: { userId: p.userId, displayName: p.displayName }, ownerIsCreator: true };
    }
    return { practice };
  };

  app.post<{ Body: CreateBody }>('/consultations', route({ body: CreateBody, response: { 201: CreatedReply } }), async (req, reply) => {
    demand(req.principal, 'consultation.create');
    const { clinicianEmail: _, ...input } = req.body;
    const created: CreatedReply = await consultations.create(input, actorOf(req.principal), await holderOf(req));
    return reply.status(201).send(created);
  });

  /** Today's consultations (or since `since`), newest first: what the console shows. `owner=me`: the clinician's own. */
  app.get<{ Querystring: ListQuery }>('/consultations', route({ querystring: ListQuery, response: { 200: ConsultationList } }),
    async (req): Promise<ConsultationList> => {
      demand(req.principal, 'consultation.read');
      const since = req.query.since ? Date.parse(req.query.since) : new Date().setHours(0, 0, 0, 0);
      const me = userIdOf(req.principal);
      if (req.query.owner === 'me' && !me) throw new AppError('validation_failed', '`owner=me` needs a signed-in person, not an API key.');
      const list = await consultations.list(req.principal.practiceId, since, req.query.owner === 'me' ? me : undefined);
      // Only open consultations can have a live room.
      const rooms = await roomViews(list.filter((c) => c.status === 'waiting' || c.status === 'in_call' || c.status === 'created').map((c) => c.id));
      const ids = list.map((c) => c.id);
      const [checks, texts] = await Promise.all([patientChecks(deps, ids), deps.store.latestSmsDeliveries(ids)]);
      return {
        consultations: list.map((c) => ({
          ...summary(c, rooms.get(c.id)), mine: me !== undefined && c.ownerUserId === me, ...checks(c.id), smsDelivery: deliveryView(texts.get(c.id)),
        })),
      };
    });

  app.post<{ Params: IdParams }>('/consultations/:id/resend', route({ params: IdParams, response: { 200: ResendReply } }),
    async (req): Promise<ResendReply> => {
      const c = await own(req, 'consultation.resend');
      const sent = await consultations.resend(c.id, actorOf(req.principal));
      // Whoever holds the new link proves the date of birth again, with all their tries.
      await deps.identity.reset(c.id);
      return sent;
    });

  app.post<{ Params: IdParams }>('/consultations/:id/clinician-link', route({ params: IdParams, response: { 201: ClinicianLinkReply } }),
    async (req, reply) => {
      const c = await own(req, 'consultation.join');
      const link: ClinicianLinkReply = await consultations.clinicianLink(c.id, actorOf(req.principal));
      return reply.status(201).send(link);
    });

  /**
   * A signed-in clinician joins from the console: the call shows the patient their name, and a
   * fresh clinician link (the console opens it in a new tab) saves a second link by SMS or e-mail.
   */
  app.post<{ Params: IdParams }>('/consultations/:id/join', route({ params: IdParams, response: { 201: ClinicianLinkReply } }),
    async (req, reply) => {
      const p = req.principal;
      // Before the id is looked at: a key is refused alike for any id.
      if (p.kind !== 'user') throw new AppError('forbidden', 'Joining is for a signed-in clinician; a practice system asks for a clinician link.');
      const c = await own(req, 'consultation.join');
      const link: ClinicianLinkReply = await consultations.clinicianLink(c.id, actorOf(p));
      await deps.store.assignClinician(c.id, { userId: p.userId, displayName: p.displayName });
      return reply.status(201).send(link);
    });

  app.post<{ Params: IdParams; Body: InviteBody }>('/consultations/:id/guests',
    route({ params: IdParams, body: InviteBody, response: { 201: InviteReply } }),
    async (req, reply) => {
      const c = await own(req, 'consultation.invite');
      const invited: InviteReply = await consultations.invite(c.id, req.body, actorOf(req.principal));
      return reply.status(201).send(invited);
    });

  app.get<{ Params: IdParams }>('/consultations/:id', route({ params: IdParams, response: { 200: ConsultationReply } }),
    async (req): Promise<ConsultationReply> => {
      const c = await own(req, 'consultation.read');
      const room = (await roomViews([c.id])).get(c.id);
      return {
        id: c.id,
        status: c.status,
        createdAt: new Date(c.createdAt).toISOString(),
        updatedAt: new Date(c.updatedAt).toISOString(),
        expiresAt: new Date(c.expiresAt).toISOString(),
        endedReason: c.endedReason,
        participants: (await consultations.participants(c.id)).map((p) => ({
          id: p.id, role: p.role, presence: room?.members.find((m) => m.id === p.id)?.presence ?? 'checking',
        })),
        ...(await patientChecks(deps, [c.id]))(c.id),
        sms: deliveryView((await deps.store.latestSmsDeliveries([c.id])).get(c.id)) ?? (c.smsStatus ? { status: c.smsStatus, at: null } : null),
      };
    });

  app.post<{ Params: IdParams }>('/consultations/:id/end', route({ params: IdParams, response: { 200: EndReply } }),
    async (req): Promise<EndReply> => {
      const c = await own(req, 'consultation.end');
      const ended = await consultations.end(c.id, actorOf(req.principal), 'ended_by_api');
      return { id: ended.id, status: ended.status };
    });

  /** Someone at the practice phoned the patient who asked (issue #18): the request is done. */
  app.post<{ Params: IdParams }>('/consultations/:id/callback/done', route({ params: IdParams, response: { 200: CallbackDoneReply } }),
    async (req): Promise<CallbackDoneReply> => {
      const c = await own(req, 'consultation.resend');
      return { done: await deps.callbacks.complete(c.id, actorOf(req.principal)) };
    });

  app.get<{ Params: IdParams }>('/consultations/:id/events', route({ params: IdParams, response: { 200: EventsReply } }),
    async (req): Promise<EventsReply> => {
      const c = await own(req, 'consultation.events');
      return { events: (await consultations.events(c.id)).map((e) => ({ ...e, at: new Date(e.at).toISOString() })) };
    });
}
