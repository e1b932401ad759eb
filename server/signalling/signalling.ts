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
import { Server, type ServerOptions } from 'socket.io';
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
import { originAllowed } from './origin.js';
import { prepareHandlers } from './prepare.js';
import { EventLimiter, type RateSettings } from './rate.js';
import { MediaPaths, type P2pMode } from './path.js';
import type { Metrics } from '../metrics/registry.js';

export type TypedServer = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

export interface SignallingDeps extends Omit<PhaseContext, 'limiter' | 'paths'> {
  tokens: SessionTokens;
  /** PUBLIC_URL: the only origin whose pages may connect, when set. */
  publicUrl: string | undefined;
  rate: RateSettings;
  /** The region's part of socket.io's options (its adapter, with several nodes). */
  socketOptions?: Partial<ServerOptions>;
  /** Whether this node holds the consultation's connections, or the socket.io path of the node that does. */
  connectWhere?: (consultationId: string) => Promise<{ here: true } | { here: false; path: string }>;
  /** P2P_MODE (issue #17); absent: every call on the SFU. */
  p2pMode?: P2pMode;
  metrics?: Metrics;
}

/**
 * Connections one participant may hold at once. The newest wins: a phone that reconnects after a
 * network change opens a new connection while the server still holds the old, half-dead one,
 * and refusing the new one would lock the patient out until the old one times out. Three
 * leaves room for a reload racing a reconnect; a client opening sockets in a loop only ever
 * holds three.
 */
export const socketsPerParticipant = 3;

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
      ...deps.socketOptions,
      serveClient: false,
      // Room for a polling batch of SDP-sized payloads; anything bigger is hostile.
      maxHttpBufferSize: 256 * 1024,
      pingInterval: 10_000,
      pingTimeout: 8_000,
      cors: { origin: false },
      allowRequest: (req, callback) => {
        if (originAllowed(req, deps.publicUrl)) callback(null, true);
        else callback('Origin not allowed', false);
      },
    });
    this.io.use(async (socket, next) => {
      try {
        await authenticate(socket, deps.tokens, deps.consultations);
        // One node holds each live consultation (design.md 2.3): a page that reached another is
        // told where to connect (`moved`, with the socket.io path the load balancer routes there).
        const where = await deps.connectWhere?.(socket.data.consultationId);
        if (where && !where.here) {
          next(Object.assign(new Error('This consultation is held on another node.'), {
            data: { code: 'moved', message: 'This consultation is held on another node.', path: where.path },
          }));
          return;
        }
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
    const paths = new MediaPaths(this.io, deps.live, { ...deps, mode: deps.p2pMode ?? 'off' });
    const ctx: PhaseContext = { ...deps, limiter: new EventLimiter(deps.rate, deps.now), paths };
    const later = { prepare: prepareHandlers(ctx), call: callHandlers(ctx), host: hostHandlers(ctx) };
    this.phases = { lobby: lobbyHandlers(ctx, later), ...later };
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
      this.keepNewest(socket);
    });
  }

  /** Past `socketsPerParticipant` connections of one participant, the oldest are closed. */
  private keepNewest(socket: TypedSocket): void {
    const room = `participant:${socket.data.participantId}`;
    void socket.join(room); // the in-memory adapter joins synchronously
    const ids = [...(this.io.sockets.adapter.rooms.get(room) ?? [])]; // in joining order
    for (const id of ids.slice(0, Math.max(0, ids.length - socketsPerParticipant))) {
      this.io.sockets.sockets.get(id)?.disconnect(true);
    }
  }

  /** Tells every client the service is restarting (they reconnect by themselves), then closes all sockets. */
  async close(): Promise<void> {
    // `local`: this node's clients only (in a region, the others' go on).
    this.io.local.emit('serviceRestarting');
    await this.io.close();
  }

}
