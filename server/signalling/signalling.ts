/**
 * Signalling: socket.io on the HTTP server. The handshake (handshake.ts) authenticates the
 * session cookie of the consultation the client names; then capability follows state
 * (design.md 7.3), one file of handlers per phase:
 *   lobby.ts    connected  -> join, leave
 *   prepare.ts  joined     -> + prepare own media (transports, produce)   [waiting room and call]
 *   call.ts     admitted   -> + consume others' media, chat                [call]
 *   host.ts     clinician  -> + admit, message the waiting room, invite, end
 * The live consultations (consultations/live.ts) decide; fanout.ts turns what they say into emits.
 */
import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents, SocketData } from '../../signalling/events.js';
import type { SessionTokens } from '../auth/session.js';
import { publicError } from '../errors.js';
import { callHandlers } from './call.js';
import type { Phases, PhaseContext } from './context.js';
import { fanOut } from './fanout.js';
import type { TypedSocket } from './handler.js';
import { authenticate } from './handshake.js';
import { hostHandlers } from './host.js';
import { lobbyHandlers } from './lobby.js';
import { prepareHandlers } from './prepare.js';

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SignallingDeps extends PhaseContext {
  tokens: SessionTokens;
}

export class Signalling {
  readonly io: TypedServer;
  // Made once and shared by every socket: a connection holds only its place in socket.io, not
  // closures of its own.
  private readonly phases: Phases;

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
        await authenticate(socket, deps.tokens, deps.consultations);
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
    const later = { prepare: prepareHandlers(deps), call: callHandlers(deps), host: hostHandlers(deps) };
    this.phases = { lobby: lobbyHandlers(deps, later), ...later };
    fanOut(this.io, deps.live, this.phases.call);
    // One listener for every socket (socket.io calls it with the socket as `this`).
    const onDisconnect = function (this: TypedSocket, reason: string) {
      const { consultationId, participantId } = this.data;
      deps.live.find(consultationId)?.drop(participantId, this.id, reason)
        .catch((err: unknown) => deps.logger.error({ err, consultationId, participantId }, 'disconnect failed'));
    };
    this.io.on('connection', (socket) => {
      this.phases.lobby.install(socket);
      socket.on('disconnect', onDisconnect);
    });
  }

  /** Tells every client the service is restarting (they reconnect by themselves), then closes all sockets. */
  async close(): Promise<void> {
    this.io.emit('serviceRestarting');
    await this.io.close();
  }

}
