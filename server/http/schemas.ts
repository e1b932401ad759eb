/**
 * Request and response schemas of the HTTP routes (TypeBox): requests are validated on arrival,
 * answers serialised by them. Their `Static<>` types are the console's (client/console/api.ts
 * imports them as types only, so nothing here reaches a bundle).
 *
 * The properties of each answer are listed in the order the service has always sent them.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import {
  consultationStatuses, endReasons, presences, roles, smsStatuses,
} from '../../signalling/vocabulary.js';
import { identityStates } from '../../signalling/vocabulary.js';
import { InvitePayload } from '../../signalling/schemas.js';
import { connectionKinds, smsDeliveries } from '../../signalling/vocabulary.js';
import { ISO_WEEK_PATTERN, s97Counts, s97Formats } from '../reports/s97.js';

/** A string from one of the vocabulary's lists (a plain string enum: no anyOf to serialise). */
export const Word = <const T extends readonly string[]>(words: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...words] });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
/** An ISO 8601 time. */
export const Time = Type.String();

const Status = Word(consultationStatuses);
const Sms = Word(smsStatuses);
/** What became of the patient's latest text, as the SMS provider last said (`at`: when it said so). */
const SmsDeliveryView = Type.Object({ status: Word(smsDeliveries), at: Time });

// ---- requests ---------------------------------------------------------------------------

/** A date of birth as the API and the patient's page send it; whether it is a real date is the service's check. */
const DateOfBirth = Type.String({ pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' });

export const CreateBody = Type.Object(
  {
    patientPhone: Type.String({ minLength: 1, maxLength: 32 }),
    patientName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    clinicianName: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    /** The clinician it is for (a user of the practice with the clinician role); their name is shown unless clinicianName is given. */
    clinicianEmail: Type.Optional(Type.String({ minLength: 3, maxLength: 254 })),
    /** YYYY-MM-DD: the patient must confirm it before joining (a real date, checked by the service). */
    patientDateOfBirth: Type.Optional(DateOfBirth),
  },
  { additionalProperties: false },
);
export type CreateBody = Static<typeof CreateBody>;

/** A third participant (interpreter, carer, colleague): the same fields as the call page's `invite`. */
export const InviteBody = InvitePayload;
export type InviteBody = Static<typeof InviteBody>;

export const ListQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time' })),
    /** `me`: only the signed-in clinician's own consultations. */
    owner: Type.Optional(Type.Literal('me')),
  },
  { additionalProperties: false },
);
export type ListQuery = Static<typeof ListQuery>;

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
export type IdParams = Static<typeof IdParams>;

// ---- answers of the practice API ----------------------------------------------------------

/** `smsError`: why the SMS failed, in words a receptionist can act on. */
export const CreatedReply = Type.Object({
  id: Type.String(),
  status: Status,
  clinicianUrl: Type.String(),
  expiresAt: Time,
  sms: Sms,
  smsError: Type.Optional(Type.String()),
});
export type CreatedReply = Static<typeof CreatedReply>;

/** One line of the console: status, SMS outcome, who waits since when; names for the clinician only. */
export const ConsultationSummary = Type.Object({
  id: Type.String(),
  status: Status,
  sms: Nullable(Sms),
  patientName: Nullable(Type.String()),
  /** Masked: "•••• 123". */
  patientPhone: Nullable(Type.String()),
  createdAt: Time,
  expiresAt: Time,
  endedReason: Nullable(Word(endReasons)),
  /** When the longest-waiting person in the waiting room started waiting; null when nobody waits. */
  waitingSince: Nullable(Time),
  /** How many people are admitted to the call. */
  inCall: Type.Integer(),
  /** The consultation is the signed-in clinician's own. */
  mine: Type.Optional(Type.Boolean()),
  /** The patient's date-of-birth check; `failed`: locked after too many wrong dates. */
  identity: Word(identityStates),
  /** When the patient asked to be phoned instead, while nobody has marked it done. */
  callbackRequestedAt: Nullable(Time),
  /** Whether the patient's text reached the phone; null until the provider has an id for it (outbox: always). */
  smsDelivery: Type.Optional(Nullable(SmsDeliveryView)),
});
export type ConsultationSummary = Static<typeof ConsultationSummary>;

export const ConsultationList = Type.Object({ consultations: Type.Array(ConsultationSummary) });
export type ConsultationList = Static<typeof ConsultationList>;

export const ResendReply = Type.Object({ sms: Sms, smsError: Type.Optional(Type.String()), expiresAt: Time });
export type ResendReply = Static<typeof ResendReply>;

export const ClinicianLinkReply = Type.Object({ clinicianUrl: Type.String(), expiresAt: Time });
export type ClinicianLinkReply = Static<typeof ClinicianLinkReply>;

export const InviteReply = Type.Object({
  participantId: Type.String(),
  url: Type.String(),
  sms: Word([...smsStatuses, 'not_sent'] as const),
});
export type InviteReply = Static<typeof InviteReply>;

export const ConsultationReply = Type.Object({
  id: Type.String(),
  status: Status,
  createdAt: Time,
  updatedAt: Time,
  expiresAt: Time,
  endedReason: Nullable(Word(endReasons)),
  participants: Type.Array(Type.Object({ id: Type.String(), role: Word(roles), presence: Word(presences) })),
  identity: Word(identityStates),
  callbackRequestedAt: Nullable(Time),
  /**
   * The latest word on the patient's text: its delivery as the provider reports it, else how
   * sending went (`sent`, `failed`, `unknown`; `at` null). Null when no text was sent.
   */
  sms: Type.Optional(Nullable(Type.Object({ status: Word([...smsStatuses, ...smsDeliveries] as const), at: Nullable(Time) }))),
});
export type ConsultationReply = Static<typeof ConsultationReply>;

export const EndReply = Type.Object({ id: Type.String(), status: Status });
export type EndReply = Static<typeof EndReply>;

/** The audit log: `actor` is a role or `api`/`system`, never a person's name. */
export const EventsReply = Type.Object({
  events: Type.Array(Type.Object({
    seq: Type.Integer(),
    consultationId: Type.String(),
    practiceId: Type.String(),
    at: Time,
    actor: Type.String(),
    type: Type.String(),
    detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
  })),
});
export type EventsReply = Static<typeof EventsReply>;

// ---- links, health, telemetry, metrics ----------------------------------------------------

/** Any text: a mangled code is answered as link_not_found, like an unknown one. */
export const CodeParams = Type.Object({ code: Type.String({ maxLength: 2048 }) });
export type CodeParams = Static<typeof CodeParams>;

export const RedeemReply = Type.Object({
  role: Word(roles),
  consultationId: Type.String(),
  participantId: Type.String(),
  /** This browser already held the session from this link: nothing was used up. */
  resumed: Type.Boolean(),
});
export type RedeemReply = Static<typeof RedeemReply>;

export const AliveReply = Type.Object({ status: Type.Literal('ok') });
export const ReadyReply = Type.Object({
  status: Word(['ready', 'not_ready'] as const),
  checks: Type.Record(Type.String(), Type.Boolean()),
});
export type ReadyReply = Static<typeof ReadyReply>;

/** Bounds of what a browser may report (ms): anything longer is not a measurement of joining. */
export const FIRST_FRAME_MAX_MS = 120_000;

export const FirstFrameBody = Type.Object(
  {
    /** Milliseconds from admission (the clinician: from joining the call) to the first remote video frame. */
    ms: Type.Integer({ minimum: 0, maximum: FIRST_FRAME_MAX_MS }),
    role: Type.Optional(Type.Union(roles.map((r) => Type.Literal(r)))),
    /** Whether the selected ICE candidate pair goes through a TURN relay (local candidate type `relay`). */
    relayed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type FirstFrameBody = Static<typeof FirstFrameBody>;

/** Prometheus' text exposition format (sent as text, never through the JSON serialiser). */
export const MetricsText = Type.String();

/** A page (a file streamed by @fastify/static, never through the JSON serialiser). */
export const HtmlPage = Type.String({ contentMediaType: 'text/html' });

/** 204: no body. */
export const NoContent = Type.Null();

/** Every refusal: {"error":{"code","message"}} (server/http/errors.ts). */
// ---- reports (operators, behind the practice API key) -------------------------------------

export const S97Query = Type.Object(
  { week: Type.String({ pattern: ISO_WEEK_PATTERN }), format: Type.Optional(Word(s97Formats)) },
  { additionalProperties: false },
);
export type S97Query = Static<typeof S97Query>;

const Count = Type.Integer({ minimum: 0 });
/** The JSON answer (server/reports/s97.ts); the CSV answer is its text. */
export const S97Reply = Type.Union([
  Type.Object({
    week: Type.String(),
    timeZone: Type.String(),
    from: Time,
    to: Time,
    practices: Type.Array(Type.Object({
      odsCode: Type.String(),
      ...Object.fromEntries(s97Counts.map((k) => [k, Count])) as Record<(typeof s97Counts)[number], typeof Count>,
    })),
  }),
  Type.String({ contentMediaType: 'text/csv' }),
]);

export const ErrorReply = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });
export type ErrorReply = Static<typeof ErrorReply>;

// ---- identity check and phone me instead (issue #18) ----------------------------------------

export const IdentityBody = Type.Object({ dateOfBirth: DateOfBirth }, { additionalProperties: false });
export type IdentityBody = Static<typeof IdentityBody>;
export const IdentityReply = Type.Object({ identity: Word(identityStates) });
export type IdentityReply = Static<typeof IdentityReply>;
/** `already`: a request was pending, so nothing new was sent. */
export const CallbackReply = Type.Object({ requested: Type.Literal(true), already: Type.Boolean() });
export type CallbackReply = Static<typeof CallbackReply>;
export const CallbackDoneReply = Type.Object({ done: Type.Boolean() });
export type CallbackDoneReply = Static<typeof CallbackDoneReply>;
// ---- SMS delivery receipts ------------------------------------------------------------------

/**
 * GOV.UK Notify's delivery-receipt callback. Only `id` and `status` are read; `to` (the phone
 * number) is never stored nor logged. Notify may add fields: they are let through unread.
 */
export const NotifyReceiptBody = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  status: Type.String({ minLength: 1, maxLength: 64 }),
  reference: Type.Optional(Nullable(Type.String({ maxLength: 1000 }))),
  to: Type.Optional(Type.String({ maxLength: 320 })),
  created_at: Type.Optional(Type.String({ maxLength: 64 })),
  completed_at: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  sent_at: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  notification_type: Type.Optional(Type.String({ maxLength: 32 })),
});
export type NotifyReceiptBody = Static<typeof NotifyReceiptBody>;

// ---- the connection check (server/http/probe.ts) ----------------------------------------------

const Params = Type.Record(Type.String(), Type.Unknown());

export const ProbeParams = Type.Object({ code: Type.String({ maxLength: 2048 }), id: Type.String({ maxLength: 64 }) });
export type ProbeParams = Static<typeof ProbeParams>;

/** A check's transport, and the relay to try it through (TURN_URLS with ephemeral credentials; none when unset). */
export const ProbeReply = Type.Object({
  id: Type.String(),
  routerRtpCapabilities: Params,
  iceParameters: Params,
  iceCandidates: Type.Array(Params),
  dtlsParameters: Params,
  sctpParameters: Params,
  iceServers: Type.Array(Type.Object({ urls: Type.Array(Type.String()), username: Type.Optional(Type.String()), credential: Type.Optional(Type.String()) })),
});
export type ProbeReply = Static<typeof ProbeReply>;

export const ProbeConnectBody = Type.Object(
  { dtlsParameters: Type.Object({ role: Type.Optional(Type.String({ maxLength: 16 })), fingerprints: Type.Array(Params, { minItems: 1, maxItems: 8 }) }) },
  { additionalProperties: false },
);
export type ProbeConnectBody = Static<typeof ProbeConnectBody>;

export const ConnectionBody = Type.Object({ kind: Word(connectionKinds) }, { additionalProperties: false });
export type ConnectionBody = Static<typeof ConnectionBody>;

// ---- peer-to-peer path reports from the pages (issue #17) ------------------------------------
import { p2pFallbackReasons } from '../../signalling/vocabulary.js';
export const P2pPathBody = Type.Union([
  /** Milliseconds from admission (the clinician: from joining the call) to the other's media shown from the direct connection. */
  Type.Object({ outcome: Type.Literal('direct'), ms: Type.Integer({ minimum: 0, maximum: FIRST_FRAME_MAX_MS }) }, { additionalProperties: false }),
  Type.Object({ outcome: Type.Literal('fallback'), reason: Word(p2pFallbackReasons) }, { additionalProperties: false }),
]);
export type P2pPathBody = Static<typeof P2pPathBody>;
