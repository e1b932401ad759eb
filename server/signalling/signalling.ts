/**
 * Signalling: socket.io on the HTTP server. The handshake authenticates the session cookie of
 * the consultation the client names; then capability follows state (design.md 7.3):
 *   connected  -> join, leave
 *   joined     -> + prepare own media (transports, produce)      [waiting room and call]
 *   admitted   -> + consume others' media                         [call]
 *   clinician  -> + admit, end                                    [host]
 */
import { parse as parseCookies } from 'cookie';
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type {
  ClientToServerEvents, JoinInfo, ParticipantView, ProducerView, ServerToClientEvents, SocketData,
} from '../../signalling/events.js';
import {
  ChatPayload, ConnectPayload, ConsumePayload, CreateTransportPayload, EmptyPayload, IdPayload, InvitePayload, MessageWaitingPayload,
  PausePayload, ProducePayload, RestartIcePayload,
  SocketAuth,
} from '../../signalling/schemas.js';
import { type SessionTokens, sessionCookieName } from '../auth/session.js';
import { iceServersFor } from '../auth/turn.js';
import type { Consultations, StatusChange } from '../consultations/service.js';
import type { PresencePort, Timekeeper } from '../consultations/timekeeper.js';
import type { Member, Room, Rooms } from '../consultations/rooms.js';
import { isTerminal } from '../consultations/lifecycle.js';
import { AppError, publicError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MediaSession } from '../media/session.js';
import type { MediaSessions } from '../media/sessions.js';
import { HandlerSet, type TypedSocket } from './handler.js';

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SignallingDeps {
  consultations: Consultations;
  rooms: Rooms;
  media: MediaSessions;
  timekeeper: Timekeeper;
  tokens: SessionTokens;
  logger: Logger;
  now: () => number;
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  iceTransportPolicy: 'all' | 'relay';
}

const checkAuth = TypeCompiler.Compile(SocketAuth);

export class Signalling implements PresencePort {
  readonly io: TypedServer;
  private readonly wiredSessions = new WeakSet<MediaSession>();

  constructor(
    httpServer: HttpServer,
    private readonly deps: SignallingDeps,
  ) {
    this.io = new Server(httpServer, {
      serveClient: false,
      // Room for a polling batch of SDP-sized payloads; anything bigger is hostile.
      maxHttpBufferSize: 256 * 1024,
      pingInterval: 10_000,
      pingTimeout: 8_000,
      cors: { origin: false },
    });
    this.io.use(async (socket, next) => {
      try {
        await this.authenticate(socket);
        // Nothing reads the handshake's HTTP request (headers, cookie) after this; dropping it
        // saves a few KB per connection ("Memory usage" in the socket.io documentation).
        (socket.conn as { request: unknown }).request = null;
        socket.handshake.headers = {};
        next();
      } catch (err) {
        const body = publicError(err);
        next(Object.assign(new Error(body.message), { data: body }));
      }
    });
    this.sets = this.handlerSets();
    this.io.on('connection', (socket) => this.onConnection(socket));
    deps.consultations.on('statusChanged', (change) => this.onStatusChanged(change));
  }

  presentCount(consultationId: string): number {
    return this.deps.rooms.find(consultationId)?.present().length ?? 0;
  }

  async reconnectExpired(consultationId: string, participantId: string): Promise<void> {
    const room = this.deps.rooms.find(consultationId);
    const member = room?.get(participantId);
    if (!room || !member || member.presence !== 'reconnecting') return;
    room.leave(participantId);
    this.broadcast(room, member);
    await this.deps.consultations.audit(consultationId, 'system', 'participant_gone', { participantId });
    await this.deps.timekeeper.participantGone(consultationId, participantId);
  }

  warnCallEnding(consultationId: string, endsAt: number): void {
    this.io.to(consultationId).emit('callEndingSoon', { endsAt });
  }

  /** Tells every client the service is restarting (they reconnect by themselves), then closes all sockets. */
  async close(): Promise<void> {
    this.io.emit('serviceRestarting');
    await this.io.close();
  }

  private async authenticate(socket: TypedSocket): Promise<void> {
    if (!checkAuth.Check(socket.handshake.auth)) throw new AppError('unauthorized', 'Say which consultation to join.');
    const { consultationId } = socket.handshake.auth as { consultationId: string };
    const token = parseCookies(socket.handshake.headers.cookie ?? '')[sessionCookieName(consultationId)];
    if (!token) throw new AppError('unauthorized', 'Open the link from your message to join this consultation.');
    const session = this.deps.tokens.verify(token);
    if (session.consultationId !== consultationId) throw new AppError('unauthorized', 'This session is for another consultation.');
    await this.deps.consultations.ensureOpen(consultationId);
    socket.data = { consultationId, participantId: session.participantId, role: session.role };
  }

  // Handler sets by what a socket may do now (see the top of this file). Made once and shared
  // by every socket: a connection holds only its place in socket.io, not closures of its own.
  private readonly sets: Record<'lobby' | 'prepare' | 'call' | 'host', HandlerSet>;

  private onConnection(socket: TypedSocket): void {
    this.sets.lobby.install(socket);
    socket.on('disconnect', this.onDisconnect);
  }

  private readonly onDisconnect = ((signalling: Signalling) =>
    function (this: TypedSocket, reason: string) {
      signalling.disconnected(this, reason).catch((err: unknown) => signalling.deps.logger.error({ err }, 'disconnect failed'));
    })(this);

  private async disconnected(socket: TypedSocket, reason: string): Promise<void> {
    const { consultationId: cid, participantId: pid } = socket.data;
    const room = this.deps.rooms.find(cid);
    const member = room?.get(pid);
    // A newer socket of the same participant has taken over: nothing to undo.
    if (!room || !member || member.socketId !== socket.id) return;
    room.drop(pid);
    this.deps.media.get(cid)?.closePeer(pid);
    this.broadcast(room, member);
    await this.deps.timekeeper.participantDropped(cid, pid);
    this.deps.logger.info({ consultationId: cid, participantId: pid, reason }, 'participant disconnected');
  }

  private handlerSets(): Signalling['sets'] {
    const log = this.deps.logger;
    const room = (socket: TypedSocket) => {
      const r = this.deps.rooms.find(socket.data.consultationId);
      if (!r) throw new AppError('consultation_closed', 'This consultation has ended.');
      return r;
    };
    const session = (socket: TypedSocket) => {
      const s = this.deps.media.get(socket.data.consultationId);
      if (!s) throw new AppError('consultation_closed', 'This consultation has ended.');
      return s;
    };
    const pidOf = (socket: TypedSocket) => socket.data.participantId;
    const cidOf = (socket: TypedSocket) => socket.data.consultationId;

    const lobby = new HandlerSet(log)
      .on('join', EmptyPayload, async (socket) => {
        const info = await this.join(socket);
        this.sets.lobby.remove(socket);
        this.sets.prepare.install(socket);
        if (info.self.presence === 'admitted') this.sets.call.install(socket);
        if (socket.data.role === 'clinician') this.sets.host.install(socket);
        return info;
      })
      .on('leave', EmptyPayload, (socket) => this.leave(socket));

    const prepare = new HandlerSet(log)
      .on('leave', EmptyPayload, (socket) => this.leave(socket))
      .on('createTransport', CreateTransportPayload, (socket, p) => session(socket).createTransport(pidOf(socket), p.direction))
      .on('connectTransport', ConnectPayload, async (socket, p) => {
        await session(socket).connectTransport(pidOf(socket), p.transportId, p.dtlsParameters);
        return {};
      })
      .on('restartIce', RestartIcePayload, async (socket, p) => ({ iceParameters: await session(socket).restartIce(pidOf(socket), p.transportId) }))
      .on('produce', ProducePayload, async (socket, p) => {
        const view = await session(socket).produce(pidOf(socket), p.transportId, p.kind, p.rtpParameters, p.source);
        // While waiting, nobody is told: the clinician sees the patient only after admitting them.
        const r = room(socket);
        if (r.get(pidOf(socket))?.presence === 'admitted') this.announce(r, [view]);
        return { producerId: view.producerId };
      })
      .on('pauseProducer', PausePayload, async (socket, p) => {
        await session(socket).pauseProducer(pidOf(socket), p.id, p.paused);
        return {};
      })
      .on('closeProducer', IdPayload, (socket, p) => {
        session(socket).closeProducer(pidOf(socket), p.id);
        return {};
      });

    const call = new HandlerSet(log)
      .on('consume', ConsumePayload, (socket, p) => {
        const s = session(socket);
        const owner = s.ownerOf(p.producerId);
        if (!owner || room(socket).get(owner)?.presence !== 'admitted') throw new AppError('not_found', 'No such media stream.');
        return s.consume(pidOf(socket), p.producerId, p.rtpCapabilities);
      })
      .on('resumeConsumer', IdPayload, async (socket, p) => {
        await session(socket).resumeConsumer(pidOf(socket), p.id);
        return {};
      })
      .on('chat', ChatPayload, (socket, p) => {
        const r = room(socket);
        const pid = pidOf(socket);
        const message = { fromId: pid, from: r.get(pid)?.name ?? '', text: p.text.trim(), at: this.deps.now() };
        // Relayed to everyone in the call and kept nowhere (not in the store, not in logs).
        for (const m of r.admitted()) if (m.socketId) this.io.to(m.socketId).emit('chat', message);
        return {};
      });

    const host = new HandlerSet(log)
      .on('admit', IdPayload, async (socket, p) => {
        await this.admit(room(socket), p.id);
        return {};
      })
      .on('messageWaiting', MessageWaitingPayload, async (socket, p) => {
        const target = room(socket).get(p.id);
        if (!target || target.presence !== 'waiting' || !target.socketId) throw new AppError('invalid_state', 'That person is not in the waiting room.');
        this.io.to(target.socketId).emit('practiceMessage', { text: p.text.trim(), at: this.deps.now() });
        await this.deps.consultations.audit(cidOf(socket), 'clinician', 'waiting_message_sent', { participantId: p.id });
        return {};
      })
      .on('invite', InvitePayload, async (socket, p) => {
        const { url, sms } = await this.deps.consultations.invite(cidOf(socket), p, 'clinician');
        return { url, sms };
      })
      .on('end', EmptyPayload, async (socket) => {
        await this.deps.consultations.end(cidOf(socket), 'clinician', 'ended_by_clinician');
        return {};
      });
    return { lobby, prepare, call, host };
  }

  private async join(socket: TypedSocket): Promise<JoinInfo> {
    const { consultationId: cid, participantId: pid, role } = socket.data;
    const c = await this.deps.consultations.ensureOpen(cid);
    const room = this.deps.rooms.get(cid);
    const record = await this.deps.consultations.participant(pid);
    const member = room.member(pid, role, this.displayName(role, record?.displayName ?? null, c.clinicianName, c.patientName), Boolean(record?.admittedAt));

    // The same person on a new connection (reload, second tab): the old one gives way.
    if (member.socketId && member.socketId !== socket.id) {
      const old = this.io.sockets.sockets.get(member.socketId);
      member.socketId = undefined;
      old?.disconnect(true);
    }
    const session = await this.deps.media.getOrCreate(cid);
    this.wire(session, room);
    session.closePeer(pid); // media starts afresh on every join
    room.join(pid, socket.id, this.deps.now());
    await this.deps.timekeeper.participantPresent(cid, pid);
    if (member.presence === 'waiting') await this.deps.consultations.markWaiting(cid, role);
    else await this.deps.consultations.markAdmitted(pid);
    await socket.join(cid);
    this.broadcast(room, member);

    const producers: ProducerView[] = member.presence === 'admitted' ? this.producersOfOthers(room, session, pid) : [];
    return {
      self: this.view(member),
      consultation: { id: cid, status: (await this.deps.consultations.get(cid)).status },
      participants: room.list().filter((m) => m.id !== pid && m.presence !== 'checking').map((m) => this.view(m)),
      routerRtpCapabilities: { ...session.rtpCapabilities },
      iceServers: iceServersFor(this.deps.turnUrls, this.deps.turnSecret, pid, this.deps.now()),
      iceTransportPolicy: this.deps.iceTransportPolicy,
      producers,
    };
  }

  private async admit(room: Room, participantId: string): Promise<void> {
    const cid = room.consultationId;
    const member = room.admit(participantId);
    await this.deps.consultations.startCall(cid, 'clinician');
    await this.deps.consultations.markAdmitted(participantId);
    const session = this.deps.media.get(cid);
    const socket = member.socketId ? this.io.sockets.sockets.get(member.socketId) : undefined;
    if (socket) {
      this.sets.call.install(socket);
      socket.emit('admitted', { producers: session ? this.producersOfOthers(room, session, participantId) : [] });
    }
    if (session) this.announce(room, session.producersOf(participantId));
    this.broadcast(room, member);
    await this.deps.consultations.audit(cid, 'clinician', 'admitted', { participantId, role: member.role });
  }

  private async leave(socket: TypedSocket): Promise<Record<string, never>> {
    const { consultationId: cid, participantId: pid } = socket.data;
    const room = this.deps.rooms.find(cid);
    const member = room?.get(pid);
    if (room && member && member.socketId === socket.id) {
      room.leave(pid);
      this.deps.media.get(cid)?.closePeer(pid);
      this.broadcast(room, member);
      await this.deps.consultations.audit(cid, member.role, 'left');
      await this.deps.timekeeper.participantGone(cid, pid);
    }
    setImmediate(() => socket.disconnect(true));
    return {};
  }

  private onStatusChanged(change: StatusChange): void {
    if (!isTerminal(change.to)) return;
    const reason = change.reason ?? 'ended_by_api';
    this.io.to(change.id).emit('consultationEnded', { reason });
    this.deps.media.close(change.id);
    // After the current handler has acknowledged (the clinician's `end` gets its answer).
    setImmediate(() => this.io.in(change.id).disconnectSockets());
    this.deps.rooms.delete(change.id);
  }

  /** Tells admitted participants (other than the owner) about new producers. */
  private announce(room: Room, producers: ProducerView[]): void {
    for (const p of producers) {
      for (const m of room.admitted()) {
        if (m.id !== p.participantId && m.socketId) this.io.to(m.socketId).emit('newProducer', p);
      }
    }
  }

  private producersOfOthers(room: Room, session: MediaSession, pid: string): ProducerView[] {
    return room.admitted().filter((m) => m.id !== pid).flatMap((m) => session.producersOf(m.id));
  }

  private broadcast(room: Room, member: Member): void {
    const view = this.view(member);
    for (const m of room.list()) {
      if (m.id !== member.id && m.socketId) this.io.to(m.socketId).emit('participant', view);
    }
  }

  /** Forwards a session's "your consumer's producer closed" to the consuming participant. */
  private wire(session: MediaSession, room: Room): void {
    if (this.wiredSessions.has(session)) return;
    this.wiredSessions.add(session);
    session.on('producerClosed', ({ participantId, producerId }) => {
      const socketId = room.get(participantId)?.socketId;
      if (socketId) this.io.to(socketId).emit('producerClosed', { producerId });
    });
    session.on('producerPaused', ({ participantId, producerId, paused }) => {
      const socketId = room.get(participantId)?.socketId;
      if (socketId) this.io.to(socketId).emit('producerPaused', { producerId, paused });
    });
    // A router that closes while the consultation is open died with its worker: everyone
    // re-negotiates with a fresh router (design.md 4).
    session.once('closed', async (reason) => {
      if (reason !== 'router_lost') return;
      try {
        const c = await this.deps.consultations.find(room.consultationId);
        if (!c || isTerminal(c.status)) return;
        this.deps.logger.warn({ consultationId: room.consultationId }, 'media lost with its worker; clients re-negotiate');
        await this.deps.consultations.audit(room.consultationId, 'system', 'media_reset');
        this.io.to(room.consultationId).emit('mediaReset');
      } catch (err) {
        this.deps.logger.error({ err, consultationId: room.consultationId }, 'media reset failed');
      }
    });
  }

  private view(m: Member): ParticipantView {
    return { id: m.id, role: m.role, name: m.name, presence: m.presence, ...(m.waitingSince ? { waitingSince: m.waitingSince } : {}) };
  }

  private displayName(role: Member['role'], own: string | null, clinicianName: string | null, patientName: string | null): string {
    switch (role) {
      case 'clinician':
        return clinicianName ?? 'Your clinician';
      case 'patient':
        return patientName ?? 'Patient';
      case 'guest':
        return own ?? 'Guest';
    }
  }
}
