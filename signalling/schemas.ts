/**
 * Payload schemas for every client-to-server event. The server checks each payload against its
 * schema before any handler runs; mediasoup then validates the media descriptions themselves.
 * Bounds (string lengths, array sizes, object depth via additionalProperties) keep hostile
 * payloads cheap to refuse.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
/*
 * mediasoup descriptions (RTP/DTLS parameters, capabilities): mediasoup checks their meaning;
 * here every array, string and object inside is bounded, so a hostile one is refused before it
 * is parsed further. Fields we do not name may only be short scalars. The limits are several
 * times what Chromium, Firefox and Safari send through mediasoup-client (about ten codecs with
 * their retransmission twins, a dozen header extensions, three simulcast encodings, one or two
 * fingerprints).
 */
const Scalar = Type.Union([Type.String({ maxLength: 256 }), Type.Number(), Type.Boolean(), Type.Null()]);
/** An object of short scalars plus the nested fields named in `props`, at most `max` keys. */
const Open = <P extends Record<string, TSchema>>(props: P, max = 32) =>
  Type.Object(props, { additionalProperties: Scalar, maxProperties: max });
const List = <T extends TSchema>(item: T, maxItems: number) => Type.Optional(Type.Array(item, { maxItems }));
const CodecParameters = Open({}, 32);
const Codec = Open({
  parameters: Type.Optional(CodecParameters),
  rtcpFeedback: List(Open({}, 4), 16),
});
const HeaderExtension = Open({ parameters: Type.Optional(CodecParameters) });
const RtpParameters = Open({
  codecs: List(Codec, 32),
  headerExtensions: List(HeaderExtension, 32),
  encodings: List(Open({ rtx: Type.Optional(Open({}, 4)) }), 16),
  rtcp: Type.Optional(Open({}, 8)),
}, 8);
const RtpCapabilities = Open({ codecs: List(Codec, 64), headerExtensions: List(Open({}, 8), 64) }, 8);
const DtlsParameters = Open({ fingerprints: List(Open({}, 4), 8) }, 8);

export const EmptyPayload = Type.Object({}, { additionalProperties: false });

export const CreateTransportPayload = Type.Object(
  { direction: Type.Union([Type.Literal('send'), Type.Literal('recv')]) },
  { additionalProperties: false },
);
export type CreateTransportPayload = Static<typeof CreateTransportPayload>;

export const ConnectPayload = Type.Object({ transportId: Id, dtlsParameters: DtlsParameters }, { additionalProperties: false });
export type ConnectPayload = Static<typeof ConnectPayload>;

export const RestartIcePayload = Type.Object({ transportId: Id }, { additionalProperties: false });
export type RestartIcePayload = Static<typeof RestartIcePayload>;

export const ProducePayload = Type.Object(
  {
    transportId: Id,
    kind: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
    rtpParameters: RtpParameters,
    source: Type.Union([Type.Literal('mic'), Type.Literal('camera'), Type.Literal('screen')]),
  },
  { additionalProperties: false },
);
export type ProducePayload = Static<typeof ProducePayload>;

export const ConsumePayload = Type.Object({ producerId: Id, rtpCapabilities: RtpCapabilities }, { additionalProperties: false });
export type ConsumePayload = Static<typeof ConsumePayload>;

export const PausePayload = Type.Object({ id: Id, paused: Type.Boolean() }, { additionalProperties: false });
export type PausePayload = Static<typeof PausePayload>;

/** How many of a camera's simulcast layers the browser encodes now, bottom up (it stops the top ones when short of upload). */
export const SendingLayersPayload = Type.Object({ id: Id, layers: Type.Integer({ minimum: 1, maximum: 4 }) }, { additionalProperties: false });
export type SendingLayersPayload = Static<typeof SendingLayersPayload>;

export const IdPayload = Type.Object({ id: Id }, { additionalProperties: false });
export type IdPayload = Static<typeof IdPayload>;

export const RemovePayload = Type.Object({ participantId: Id }, { additionalProperties: false });
export type RemovePayload = Static<typeof RemovePayload>;

export const InvitePayload = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: 40 }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
  },
  { additionalProperties: false },
);
export type InvitePayload = Static<typeof InvitePayload>;

/** Free text people type: bounded, and never an empty or blank message. */
const Text = Type.String({ minLength: 1, maxLength: 500, pattern: '\\S' });

export const ChatPayload = Type.Object({ text: Text }, { additionalProperties: false });
export type ChatPayload = Static<typeof ChatPayload>;

export const MessageWaitingPayload = Type.Object({ id: Id, text: Text }, { additionalProperties: false });
export type MessageWaitingPayload = Static<typeof MessageWaitingPayload>;

/**
 * Clinician: the start-of-call checklist (hazard log H07), as ticks only: nothing typed, nothing
 * personal, so the audit log can keep it as it is.
 */
export const ChecklistPayload = Type.Object(
  { location: Type.Boolean(), identity: Type.Boolean(), private: Type.Boolean(), othersAgreed: Type.Boolean() },
  { additionalProperties: false },
);
export type ChecklistPayload = Static<typeof ChecklistPayload>;

export const SocketAuth = Type.Object({ consultationId: Id }, { additionalProperties: true });

/*
 * Peer-to-peer for two (issue #17): what one page relays to the other through the server. Either a
 * session description (perfect negotiation), an ICE candidate, or where its media goes now.
 * Bounded: a Chromium offer for one audio and one video section is under 10 kB.
 */
export const P2pSignalPayload = Type.Object(
  {
    to: Id,
    description: Type.Optional(Type.Object(
      { type: Type.Union([Type.Literal('offer'), Type.Literal('answer'), Type.Literal('rollback')]), sdp: Type.String({ maxLength: 32_000 }) },
      { additionalProperties: false },
    )),
    candidate: Type.Optional(Type.Object(
      {
        candidate: Type.String({ maxLength: 512 }),
        sdpMid: Type.Optional(Type.Union([Type.String({ maxLength: 32 }), Type.Null()])),
        sdpMLineIndex: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: 15 }), Type.Null()])),
        usernameFragment: Type.Optional(Type.Union([Type.String({ maxLength: 256 }), Type.Null()])),
      },
      { additionalProperties: false },
    )),
    /** `direct`: this page shows the other's media from the direct connection; `sfu`: back to the SFU. */
    state: Type.Optional(Type.Union([Type.Literal('direct'), Type.Literal('sfu')])),
  },
  { additionalProperties: false, minProperties: 2, maxProperties: 2 },
);
export type P2pSignalPayload = Static<typeof P2pSignalPayload>;
