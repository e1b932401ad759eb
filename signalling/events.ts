/**
 * The signalling contract: every socket.io event in both directions, with its payload and its
 * acknowledgement. Imported by the server and by the browser client, so a change here is a
 * type error on both sides. Payload schemas live in ./schemas.ts and are checked on arrival.
 *
 * Phases (capability follows state): after `join`, a waiting participant may only prepare its
 * own media (transports, producers) and leave; consuming others' media needs admission; the
 * clinician alone may admit and end.
 */
import type { TSchema } from '@sinclair/typebox';
import {
  ChatPayload, ChecklistPayload, ConnectPayload, ConsumePayload, CreateTransportPayload, EmptyPayload, IdPayload, InvitePayload, MessageWaitingPayload,
  PausePayload, ProducePayload, RemovePayload, RestartIcePayload, SendingLayersPayload,
  P2pSignalPayload,
} from './schemas.js';

export type {
  ChatPayload, ChecklistPayload, ConnectPayload, ConsumePayload, CreateTransportPayload, IdPayload, InvitePayload, MessageWaitingPayload, PausePayload,
  ProducePayload, RemovePayload, RestartIcePayload, SendingLayersPayload,
  P2pSignalPayload,
};

import type { ConsultationStatus, EndReason, ErrorCode, Presence, Role, SmsStatus } from './vocabulary.js';

export type { ConsultationStatus, EndReason, ErrorCode, Presence, Role, SmsStatus };
import type { ConnectionKind, VideoFit } from './vocabulary.js';

export interface SignalError {
  code: ErrorCode;
  message: string;
}

/** Every acknowledgement: success with data, or a coded error. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: SignalError };
export type AckFn<T> = (res: Ack<T>) => void;

export interface ParticipantView {
  id: string;
  role: Role;
  /** Display name: the clinician's name for patients; "Patient" for clinicians unless given. */
  name: string;
  presence: Presence;
  /** Epoch ms since the participant has been waiting, when waiting. */
  waitingSince?: number;
  /** How their media can reach the service, as their connection check found (absent until it has). */
  connection?: ConnectionKind;
}

export interface ProducerView {
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: 'mic' | 'camera' | 'screen';
}

export interface ChatMessage {
  fromId: string;
  from: string;
  text: string;
  /** Epoch ms. */
  at: number;
}

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface JoinInfo {
  self: ParticipantView;
  consultation: { id: string; status: ConsultationStatus };
  participants: ParticipantView[];
  /** mediasoup RtpCapabilities of the consultation's router (opaque to this contract). */
  routerRtpCapabilities: Record<string, unknown>;
  iceServers: IceServer[];
  iceTransportPolicy: 'all' | 'relay';
  /** Producers the joiner may consume now (empty while waiting). */
  producers: ProducerView[];
}

/** What a client needs to create its side of a mediasoup WebRtcTransport. */
export interface TransportOptions {
  id: string;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
}

export interface ConsumerOptions {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: Record<string, unknown>;
  participantId: string;
  /** The owner has it muted right now. */
  producerPaused: boolean;
}

/**
 * The video between this page and `participantId` no longer fits a link, or fits again. `yours`:
 * the weak link is this page's own (it receives that video); otherwise the other's.
 */
export interface VideoWeak {
  participantId: string;
  fit: VideoFit;
  /** `fit === 'paused'`, as before `fit` was added. */
  paused: boolean;
  yours: boolean;
}

export interface ClientToServerEvents {
  join: (payload: Record<string, never>, ack: AckFn<JoinInfo>) => void;
  createTransport: (payload: CreateTransportPayload, ack: AckFn<TransportOptions>) => void;
  connectTransport: (payload: ConnectPayload, ack: AckFn<Record<string, never>>) => void;
  restartIce: (payload: RestartIcePayload, ack: AckFn<{ iceParameters: Record<string, unknown> }>) => void;
  produce: (payload: ProducePayload, ack: AckFn<{ producerId: string }>) => void;
  closeProducer: (payload: IdPayload, ack: AckFn<Record<string, never>>) => void;
  /** Mute or unmute one's own microphone or camera (others are told, so silence is not a fault). */
  pauseProducer: (payload: PausePayload, ack: AckFn<Record<string, never>>) => void;
  /** How many of one's camera's simulcast layers the browser sends now (it stops the top ones when short of upload). */
  sendingLayers: (payload: SendingLayersPayload, ack: AckFn<Record<string, never>>) => void;
  consume: (payload: ConsumePayload, ack: AckFn<ConsumerOptions>) => void;
  resumeConsumer: (payload: IdPayload, ack: AckFn<Record<string, never>>) => void;
  admit: (payload: IdPayload, ack: AckFn<Record<string, never>>) => void;
  /** Admitted participants: a text message to everyone in the call (relayed, never stored). */
  chat: (payload: ChatPayload, ack: AckFn<Record<string, never>>) => void;
  /** Clinician: a message to someone in the waiting room ("running 10 minutes late"). */
  messageWaiting: (payload: MessageWaitingPayload, ack: AckFn<Record<string, never>>) => void;
  /** Clinician: a link for a third participant (interpreter, carer, colleague), sent by SMS if a number is given. */
  invite: (payload: InvitePayload, ack: AckFn<{ url: string; sms: SmsStatus | 'not_sent' }>) => void;
  /**
   * Clinician: the start-of-call checklist as it stands (patient's location and call-back number,
   * identity, privacy, anyone else present agreed), audited as ticks.
   */
  checklist: (payload: ChecklistPayload, ack: AckFn<Record<string, never>>) => void;
  leave: (payload: Record<string, never>, ack: AckFn<Record<string, never>>) => void;
  /** Clinician: removes someone from the consultation (disconnected; their sessions, links and admission revoked). */
  remove: (payload: RemovePayload, ack: AckFn<Record<string, never>>) => void;
  end: (payload: Record<string, never>, ack: AckFn<Record<string, never>>) => void;
  /** Admitted, told `mediaPath` p2p: a description, candidate or path change for the other page (relayed, never stored). */
  p2pSignal: (payload: P2pSignalPayload, ack: AckFn<Record<string, never>>) => void;
}

export interface ServerToClientEvents {
  /** Someone joined, started waiting, was admitted, dropped or left. */
  participant: (p: ParticipantView) => void;
  /** Sent to a waiting participant when the clinician admits them, with what to consume. */
  admitted: (info: { producers: ProducerView[] }) => void;
  newProducer: (p: ProducerView) => void;
  producerClosed: (p: { producerId: string }) => void;
  chat: (m: ChatMessage) => void;
  /** A message from the practice to a waiting participant. */
  practiceMessage: (m: { text: string; at: number }) => void;
  /** A producer this participant consumes was muted (paused) or unmuted by its owner. */
  producerPaused: (p: { producerId: string; paused: boolean }) => void;
  consultationEnded: (e: { reason: EndReason }) => void;
  /** This person's place was revoked (the clinician removed them, or a new link was sent): this page cannot rejoin. */
  removed: () => void;
  /** The media server of this consultation was replaced: set up media again (reconnect and rejoin). */
  mediaReset: () => void;
  /** The service is restarting: stay on the page, reconnect and rejoin (the session cookie is enough). */
  serviceRestarting: () => void;
  /** The call will be ended at its time limit, at `endsAt` (epoch ms). */
  callEndingSoon: (e: { endsAt: number }) => void;
  /**
   * Video between this participant and `participantId` (the other end: whose video it is, or who
   * receives ours) paused because the link cannot carry even the smallest picture, or resumed.
   */
  videoWeak: (e: VideoWeak) => void;
  /** To the clinician: the patient asked the practice to phone them instead (issue #18), at `at` (epoch ms). */
  callbackRequested: (e: { at: number }) => void;
  /** Which path this page's call media should take now (issue #17): the SFU, or direct to one peer. */
  mediaPath: (p: MediaPathInfo) => void;
  /** What the peer of a direct connection relayed (see the client event). */
  p2pSignal: (m: P2pSignal) => void;
}

/** The server's word on the media path: `p2p` names the peer and who is polite (perfect negotiation). */
export type MediaPathInfo =
  | { path: 'sfu' }
  | { path: 'p2p'; peerId: string; polite: boolean; iceServers: IceServer[]; iceTransportPolicy: 'all' | 'relay' };

/** A relayed p2pSignal, naming its sender instead of its target. */
export type P2pSignal = Omit<P2pSignalPayload, 'to'> & { from: string };

/** socket.io's per-socket data: who is on this socket, set at the handshake. */
export interface SocketData {
  consultationId: string;
  participantId: string;
  role: Role;
}

/**
 * Every client-to-server event with the schema its payload is checked against. Keyed by the
 * event map, so an event missing here, an extra one, or a schema whose payload type differs from
 * the event's is a compile error. The server's handlers and the fuzz test take their lists from it.
 */
export const clientEvents = {
  join: EmptyPayload,
  createTransport: CreateTransportPayload,
  connectTransport: ConnectPayload,
  restartIce: RestartIcePayload,
  produce: ProducePayload,
  closeProducer: IdPayload,
  pauseProducer: PausePayload,
  sendingLayers: SendingLayersPayload,
  consume: ConsumePayload,
  resumeConsumer: IdPayload,
  admit: IdPayload,
  chat: ChatPayload,
  messageWaiting: MessageWaitingPayload,
  invite: InvitePayload,
  checklist: ChecklistPayload,
  leave: EmptyPayload,
  remove: RemovePayload,
  end: EmptyPayload,
  p2pSignal: P2pSignalPayload,
} as const satisfies { [E in keyof ClientToServerEvents]: SchemaOf<Parameters<ClientToServerEvents[E]>[0]> };

/** A schema whose checked value has the event's payload type. */
type SchemaOf<T> = TSchema & { static: T };
