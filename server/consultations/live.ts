/**
 * One live consultation: the single owner of its room (who is present), its media session and
 * what its clients are told. Joining, admission and every way of departing go through here, and
 * so does closing, which cascades child-first: clients are told and disconnected, the media
 * closes, the room is forgotten. Its typed events go out through one emitter shared by all live
 * consultations (the registry): a listener per consultation would weigh on every waiting
 * patient. The socket layer turns them into emits (signalling/fanout.ts); the timers follow the
 * `presence` events.
 */
import type { EventEmitter } from 'node:events';
import type { EndReason, JoinInfo, ParticipantView, ProducerView, ServerToClientEvents } from '../../signalling/events.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MediaSession } from '../media/session.js';
import type { MediaSessions } from '../media/sessions.js';
import type { Role } from './participant.js';
import type { RoomView } from '../cluster/cluster.js';
import type { Member, Room, Rooms } from './rooms.js';
import type { Actor, Consultations } from './service.js';
import type { ConnectionKind } from '../../signalling/vocabulary.js';

/** Connections by socket id, or everyone connected to the consultation. */
export type Recipients = readonly string[] | 'everyone';

/** One server-to-client event with its arguments. */
export type Outgoing = { [E in keyof ServerToClientEvents]: { event: E; args: Parameters<ServerToClientEvents[E]> } }[keyof ServerToClientEvents];

/** What the timers need to know: someone is present (again), dropped, or gone for good. */
export type PresenceChange = 'present' | 'dropped' | 'gone';

export interface PresenceEvent {
  consultationId: string;
  participantId: string;
  change: PresenceChange;
}

/** What live consultations report, each event naming which one. */
export interface LiveEvents {
  send: [live: LiveConsultation, to: Recipients, message: Outgoing];
  /** Close connections: `now` for one that gave way, `afterAck` so a handler's answer still goes out. */
  disconnect: [live: LiveConsultation, to: Recipients, when: 'now' | 'afterAck'];
  /** This connection's participant was admitted: it may consume others' media now. */
  admitted: [live: LiveConsultation, socketId: string];
  presence: [PresenceEvent];
  /** Every session of this participant was revoked: close all their connections, joined or not. */
  revoked: [consultationId: string, participantId: string];
  /** Who is in the room, or how, changed (the region publishes what the console shows). */
  roomChanged: [live: LiveConsultation];
  /** Closed: the consultation ended (its reason), or it goes on on another node (`handed_over`). */
  closed: [live: LiveConsultation, reason: EndReason | 'handed_over'];
}

export interface LiveDeps {
  consultations: Consultations;
  media: Pick<MediaSessions, 'getOrCreate' | 'close'>;
  rooms: Rooms;
  logger: Logger;
  now: () => number;
  /** Where the events of every live consultation go. */
  events: EventEmitter<LiveEvents>;
  /** What a participant's connection check found, if it has run (server/media/probe.ts). */
  connectionOf?: (participantId: string) => ConnectionKind | undefined;
}

/** What joining tells the joiner, apart from the ICE settings the socket layer adds. */
export type Joined = Omit<JoinInfo, 'iceServers' | 'iceTransportPolicy'>;

/**
 * How someone departs: left on purpose, their connection dropped, their reconnect grace ran out,
 * or their sessions were revoked (removed by the clinician, or a new link sent).
 */
type Departure = 'left' | 'dropped' | 'gone' | 'removed';

export function consultationClosed(): AppError {
  return new AppError('consultation_closed', 'This consultation has ended.');
}

export class LiveConsultation {
  private readonly room: Room;
  private session: MediaSession | undefined;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly deps: LiveDeps,
  ) {
    this.room = deps.rooms.get(id);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Participants connected, or dropped but within their reconnect grace. */
  presentCount(): number {
    return this.room.present().length;
  }

  /** The media of this consultation, once someone has joined; refused once it has closed. */
  media(): MediaSession {
    if (this.closed || !this.session) throw consultationClosed();
    return this.session;
  }

  /**
   * `participantId` joins on connection `socketId`: clinicians and those admitted before go
   * straight into the call, others wait. Their media starts afresh.
   */
  async join(participantId: string, role: Role, socketId: string): Promise<Joined> {
    const c = await this.deps.consultations.ensureOpen(this.id);
    const record = await this.deps.consultations.participant(participantId);
    const name = displayName(role, record?.displayName ?? null, c.clinicianName, c.patientName);
    const member = this.room.member(participantId, role, name, Boolean(record?.admittedAt));
    member.connection ??= this.deps.connectionOf?.(participantId);

    // The same person on a new connection (reload, second tab): the old one gives way.
    if (member.socketId && member.socketId !== socketId) {
      const old = member.socketId;
      member.socketId = undefined;
      this.deps.events.emit('disconnect', this, [old], 'now');
    }
    const session = await this.deps.media.getOrCreate(this.id);
    // The consultation may have closed while the media session was being made.
    const open = await this.deps.consultations.isOpen(this.id);
    if (this.closed || !open) {
      this.deps.media.close(this.id); // it may have been made after close() closed the media
      throw consultationClosed();
    }
    this.useSession(session);
    session.closePeer(participantId);
    this.room.join(participantId, socketId, this.deps.now());
    this.presence(participantId, 'present');
    if (member.presence === 'waiting') await this.deps.consultations.markWaiting(this.id, role);
    else await this.deps.consultations.markAdmitted(participantId);
    this.broadcast(member);
    const { status } = await this.deps.consultations.get(this.id);
    return {
      self: view(member),
      consultation: { id: this.id, status },
      participants: this.room.list().filter((m) => m.id !== participantId && m.presence !== 'checking').map(view),
      routerRtpCapabilities: { ...session.rtpCapabilities },
      producers: member.presence === 'admitted' ? this.producersOfOthers(participantId) : [],
    };
  }

  /** Lets a waiting participant into the call. The call starts (persisted) before anyone is moved. */
  async admit(participantId: string, by: Actor = 'clinician'): Promise<void> {
    const { role } = this.room.waiting(participantId);
    await this.deps.consultations.startCall(this.id, by);
    await this.deps.consultations.markAdmitted(participantId);
    const member = this.room.admit(participantId); // checks again: they may have gone meanwhile
    if (member.socketId) {
      this.deps.events.emit('admitted', this, member.socketId);
      this.send([member.socketId], { event: 'admitted', args: [{ producers: this.producersOfOthers(participantId) }] });
    }
    for (const p of this.session?.producersOf(participantId) ?? []) this.announce(p);
    this.broadcast(member);
    await this.deps.consultations.audit(this.id, by, 'admitted', { participantId, role });
  }

  /** The participant left on purpose (from the connection they are on now). */
  async leave(participantId: string, socketId: string): Promise<void> {
    const member = this.room.get(participantId);
    if (member && member.socketId === socketId) await this.depart(member, 'left');
  }

  /** A connection dropped; a newer connection of the same participant is left alone. */
  async drop(participantId: string, socketId: string, reason: string): Promise<void> {
    const member = this.room.get(participantId);
    if (!member || member.socketId !== socketId) return;
    await this.depart(member, 'dropped');
    this.deps.logger.info({ consultationId: this.id, participantId, reason }, 'participant disconnected');
  }

  /** A dropped participant did not come back within the grace: they have left. */
  async reconnectExpired(participantId: string): Promise<void> {
    const member = this.room.get(participantId);
    if (member?.presence === 'reconnecting') await this.depart(member, 'gone');
  }

  /**
   * The participant's sessions were revoked (consultations.remove, or a re-sent link): they leave
   * the room and their admission is forgotten, so whoever comes back with a new link waits. Their
   * connections, joined or not, are closed by the registry's `revoked` event.
   */
  async remove(participantId: string): Promise<void> {
    const member = this.room.get(participantId);
    if (!member) return;
    member.admittedOnce = false;
    if (member.presence !== 'checking' && member.presence !== 'left') await this.depart(member, 'removed');
  }

  /** A new producer: admitted participants are told; while waiting, nobody is (they see them once admitted). */
  produced(producer: ProducerView): void {
    if (this.room.get(producer.participantId)?.presence === 'admitted') this.announce(producer);
  }

  /** Whether `producerId` belongs to someone in the call (only theirs may be consumed). */
  mayConsume(producerId: string): boolean {
    const owner = this.session?.ownerOf(producerId);
    return owner !== undefined && this.room.get(owner)?.presence === 'admitted';
  }

  /** Relays a chat message to everyone in the call; it is kept nowhere (not in the store, not in logs). */
  chat(participantId: string, text: string): void {
    const message = { fromId: participantId, from: this.room.get(participantId)?.name ?? '', text: text.trim(), at: this.deps.now() };
    this.send(socketsOf(this.room.admitted()), { event: 'chat', args: [message] });
  }

  /** A message from the practice to someone in the waiting room. */
  async messageWaiting(participantId: string, text: string, by: Actor = 'clinician'): Promise<void> {
    const target = this.room.get(participantId);
    if (target?.presence !== 'waiting' || !target.socketId) throw new AppError('invalid_state', 'That person is not in the waiting room.');
    this.send([target.socketId], { event: 'practiceMessage', args: [{ text: text.trim(), at: this.deps.now() }] });
    await this.deps.consultations.audit(this.id, by, 'waiting_message_sent', { participantId });
  }

  warnCallEnding(endsAt: number): void {
    this.send('everyone', { event: 'callEndingSoon', args: [{ endsAt }] });
  }

  /** What the console shows of the room. */
  view(): RoomView {
    return { members: this.room.list().map((m) => ({ id: m.id, role: m.role, presence: m.presence, waitingSince: m.waitingSince })) };
  }

  /** Ends the live side of the consultation, child-first. Idempotent. */
  close(reason: EndReason): void {
    if (this.closed) return;
    this.send('everyone', { event: 'consultationEnded', args: [{ reason }] });
    this.shut(reason);
  }

  /**
   * The consultation goes on on another node (this one drains, or another took it over): everyone
   * is told the service restarts, so their pages connect again and are placed there. Idempotent.
   */
  handOver(): void {
    if (this.closed) return;
    this.send('everyone', { event: 'serviceRestarting', args: [] });
    this.shut('handed_over');
  }

  private shut(reason: EndReason | 'handed_over'): void {
    this.closed = true;
    this.deps.events.emit('disconnect', this, 'everyone', 'afterAck');
    this.session = undefined;
    this.deps.media.close(this.id);
    this.deps.rooms.delete(this.id);
    this.deps.events.emit('closed', this, reason);
  }

  /** The one departure sequence: presence, media, the others told, the audit log, the timers. */
  private async depart(member: Member, how: Departure): Promise<void> {
    if (how === 'dropped') this.room.drop(member.id);
    else this.room.leave(member.id);
    this.session?.closePeer(member.id);
    this.broadcast(member);
    if (how === 'left') await this.deps.consultations.audit(this.id, member.role, 'left');
    if (how === 'gone') await this.deps.consultations.audit(this.id, 'system', 'participant_gone', { participantId: member.id });
    this.presence(member.id, how === 'dropped' ? 'dropped' : 'gone');
  }

  /** Takes the consultation's current media session, forwarding what its consumers' owners need to hear. */
  private useSession(session: MediaSession): void {
    if (this.session === session) return;
    this.session = session;
    session.on('producerClosed', ({ participantId, producerId }) => {
      const socketId = this.room.get(participantId)?.socketId;
      if (socketId) this.send([socketId], { event: 'producerClosed', args: [{ producerId }] });
    });
    session.on('producerPaused', ({ participantId, producerId, paused }) => {
      const socketId = this.room.get(participantId)?.socketId;
      if (socketId) this.send([socketId], { event: 'producerPaused', args: [{ producerId, paused }] });
    });
    // Both ends hear of it: the receiver sees why the picture stopped, the sender why nobody sees them.
    session.on('videoWeak', ({ participantId, ownerId, fit }) => {
      const receiver = this.room.get(participantId)?.socketId;
      const sender = this.room.get(ownerId)?.socketId;
      const paused = fit === 'paused';
      if (receiver) this.send([receiver], { event: 'videoWeak', args: [{ participantId: ownerId, fit, paused, yours: true }] });
      if (sender) this.send([sender], { event: 'videoWeak', args: [{ participantId, fit, paused, yours: false }] });
    });
    // A router that closes while the consultation is open died with its worker: everyone
    // re-negotiates with a fresh router (design.md 4).
    session.once('closed', (reason) => {
      if (reason === 'router_lost') this.mediaLost().catch((err: unknown) => this.deps.logger.error({ err, consultationId: this.id }, 'media reset failed'));
    });
  }

  private async mediaLost(): Promise<void> {
    if (this.closed || !(await this.deps.consultations.isOpen(this.id)) || this.closed) return;
    this.deps.logger.warn({ consultationId: this.id }, 'media lost with its worker; clients re-negotiate');
    this.send('everyone', { event: 'mediaReset', args: [] });
    await this.deps.consultations.audit(this.id, 'system', 'media_reset');
  }

  /** Tells admitted participants other than its owner about a producer. */
  private announce(p: ProducerView): void {
    const to = socketsOf(this.room.admitted().filter((m) => m.id !== p.participantId));
    this.send(to, { event: 'newProducer', args: [p] });
  }

  private producersOfOthers(participantId: string): ProducerView[] {
    const session = this.session;
    if (!session) return [];
    return this.room.admitted().filter((m) => m.id !== participantId).flatMap((m) => session.producersOf(m.id));
  }

  /** A participant's connection check found `kind`: those who see them are told. */
  connectionChecked(participantId: string, kind: ConnectionKind): void {
    const member = this.room.get(participantId);
    if (!member || member.connection === kind) return;
    member.connection = kind;
    this.broadcast(member);
  }

  /** Tells everyone else connected about a member's presence. */
  private broadcast(member: Member): void {
    this.send(socketsOf(this.room.list().filter((m) => m.id !== member.id)), { event: 'participant', args: [view(member)] });
    this.deps.events.emit('roomChanged', this);
  }

  private send(to: Recipients, message: Outgoing): void {
    if (to === 'everyone' || to.length > 0) this.deps.events.emit('send', this, to, message);
  }

  private presence(participantId: string, change: PresenceChange): void {
    this.deps.events.emit('presence', { consultationId: this.id, participantId, change });
  }
}

function socketsOf(members: Member[]): string[] {
  return members.flatMap((m) => (m.socketId ? [m.socketId] : []));
}

function view(m: Member): ParticipantView {
  return {
    id: m.id, role: m.role, name: m.name, presence: m.presence, ...(m.waitingSince ? { waitingSince: m.waitingSince } : {}),
    ...(m.connection ? { connection: m.connection } : {}),
  };
}

function displayName(role: Role, own: string | null, clinicianName: string | null, patientName: string | null): string {
  switch (role) {
    case 'clinician':
      return clinicianName ?? 'Your clinician';
    case 'patient':
      return patientName ?? 'Patient';
    case 'guest':
      return own ?? 'Guest';
  }
}
