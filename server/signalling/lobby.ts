/** Connected, not yet joined: join (which opens the next phases) or leave; once joined, leave. */
import type { JoinInfo } from '../../signalling/events.js';
import { iceServersFor } from '../auth/turn.js';
import { consultationClosed } from '../consultations/live.js';
import { AppError } from '../errors.js';
import type { Phases, PhaseContext } from './context.js';
import { HandlerSet, type TypedSocket } from './handler.js';
import { leave } from './prepare.js';

export function lobbyHandlers(ctx: PhaseContext, phases: Omit<Phases, 'lobby'>): HandlerSet {
  // A connection joins once: from the first `join` on, another is answered, never handled again
  // (handled twice, it would install every later phase's listeners twice). Leaving stays open.
  const joined = new HandlerSet(ctx)
    .on('join', () => {
      throw new AppError('invalid_state', 'This connection has joined already.');
    })
    .on('leave', (socket) => leave(ctx, socket));
  const lobby: HandlerSet = new HandlerSet(ctx)
    .on('join', async (socket) => {
      // Before the first await: a second `join` queued behind this one meets `joined`.
      lobby.remove(socket);
      joined.install(socket);
      let info: JoinInfo;
      try {
        info = await join(ctx, socket);
      } catch (err) {
        joined.remove(socket);
        lobby.install(socket); // may try again
        throw err;
      }
      phases.prepare.install(socket);
      if (info.self.presence === 'admitted') phases.call.install(socket);
      if (socket.data.role === 'clinician') phases.host.install(socket);
      return info;
    })
    .on('leave', (socket) => leave(ctx, socket));
  return lobby;
}

async function join(ctx: PhaseContext, socket: TypedSocket): Promise<JoinInfo> {
  const { consultationId, participantId, role } = socket.data;
  await ctx.identity.ensureConfirmed(consultationId, role);
  const live = await ctx.live.open(consultationId);
  // In the consultation's socket.io room first, so an end while joining still reaches this socket.
  await socket.join(consultationId);
  const joined = await live.join(participantId, role, socket.id);
  if (live.isClosed) throw consultationClosed();
  const { producers, ...rest } = joined;
  return {
    ...rest,
    iceServers: iceServersFor(ctx.turnUrls, ctx.turnSecret, participantId, ctx.now()),
    iceTransportPolicy: ctx.iceTransportPolicy,
    producers,
  };
}
