/**
 * The clinician: admit, message the waiting room, invite a third participant, save the
 * start-of-call checklist, remove someone, end.
 * Each act is audited as the signed-in clinician's own when they are one (Consultations.actorOf).
 */
import { liveOf, type PhaseContext } from './context.js';
import { HandlerSet, type TypedSocket } from './handler.js';

export function hostHandlers(ctx: PhaseContext): HandlerSet {
  const who = (socket: TypedSocket) => ctx.consultations.actorOf(socket.data.participantId, socket.data.role);
  return new HandlerSet(ctx)
    .on('admit', async (socket, p) => {
      await liveOf(ctx, socket).admit(p.id, await who(socket));
      return {};
    })
    .on('messageWaiting', async (socket, p) => {
      await liveOf(ctx, socket).messageWaiting(p.id, p.text, await who(socket));
      return {};
    })
    .on('invite', async (socket, p) => {
      const { url, sms } = await ctx.consultations.invite(socket.data.consultationId, p, await who(socket));
      return { url, sms };
    })
    .on('checklist', async (socket, p) => {
      liveOf(ctx, socket); // an ended consultation's checklist is refused, not audited
      // The four ticks by name, never the payload as sent: the audit log keeps nothing else.
      const { location, identity, private: inPrivate, othersAgreed } = p;
      await ctx.consultations.audit(socket.data.consultationId, await who(socket), 'checklist', { location, identity, private: inPrivate, othersAgreed });
      return {};
    })
    .on('remove', async (socket, p) => {
      await ctx.consultations.remove(socket.data.consultationId, p.participantId, await who(socket));
      return {};
    })
    .on('end', async (socket) => {
      await ctx.consultations.end(socket.data.consultationId, await who(socket), 'ended_by_clinician');
      return {};
    });
}
