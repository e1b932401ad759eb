/** The clinician: admit, message the waiting room, invite a third participant, remove someone, end. */
import { liveOf, type PhaseContext } from './context.js';
import { HandlerSet } from './handler.js';

export function hostHandlers(ctx: PhaseContext): HandlerSet {
  return new HandlerSet(ctx)
    .on('admit', async (socket, p) => {
      await liveOf(ctx, socket).admit(p.id);
      return {};
    })
    .on('messageWaiting', async (socket, p) => {
      await liveOf(ctx, socket).messageWaiting(p.id, p.text);
      return {};
    })
    .on('invite', async (socket, p) => {
      const { url, sms } = await ctx.consultations.invite(socket.data.consultationId, p, 'clinician');
      return { url, sms };
    })
    .on('remove', async (socket, p) => {
      await ctx.consultations.remove(socket.data.consultationId, p.participantId, 'clinician');
      return {};
    })
    .on('end', async (socket) => {
      await ctx.consultations.end(socket.data.consultationId, 'clinician', 'ended_by_clinician');
      return {};
    });
}
