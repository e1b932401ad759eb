/** Admitted: consume others' media, chat, and signal the peer of a direct connection. */
import { AppError } from '../errors.js';
import { liveOf, type PhaseContext } from './context.js';
import { HandlerSet } from './handler.js';

export function callHandlers(ctx: PhaseContext): HandlerSet {
  return new HandlerSet(ctx)
    .on('consume', (socket, p) => {
      const live = liveOf(ctx, socket);
      const media = live.media();
      if (!live.mayConsume(p.producerId)) throw new AppError('not_found', 'No such media stream.');
      return media.consume(socket.data.participantId, p.producerId, p.rtpCapabilities);
    })
    .on('resumeConsumer', async (socket, p) => {
      await liveOf(ctx, socket).media().resumeConsumer(socket.data.participantId, p.id);
      return {};
    })
    .on('chat', (socket, p) => {
      liveOf(ctx, socket).chat(socket.data.participantId, p.text);
      return {};
    })
    .on('p2pSignal', (socket, p) => {
      ctx.paths.relay(liveOf(ctx, socket).id, { id: socket.data.participantId, socketId: socket.id }, p);
      return {};
    });
}
