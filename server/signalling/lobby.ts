/** Connected, not yet joined: join (which opens the next phases) or leave. */
import type { JoinInfo } from '../../signalling/events.js';
import { iceServersFor } from '../auth/turn.js';
import { consultationClosed } from '../consultations/live.js';
import type { Phases, PhaseContext } from './context.js';
import { HandlerSet, type TypedSocket } from './handler.js';
import { leave } from './prepare.js';

export function lobbyHandlers(ctx: PhaseContext, phases: Omit<Phases, 'lobby'>): HandlerSet {
  const lobby: HandlerSet = new HandlerSet(ctx.logger)
    .on('join', async (socket) => {
      const info = await join(ctx, socket);
      lobby.remove(socket);
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
