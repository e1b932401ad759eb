/** Joined, waiting or in the call: prepare one's own media (transports, producers). */
import type { Role } from '../../signalling/vocabulary.js';
import { AppError } from '../errors.js';
import type { ProduceSource } from '../media/session.js';
import type { PhaseContext } from './context.js';
import { liveOf } from './context.js';
import { HandlerSet, type TypedSocket } from './handler.js';

export function prepareHandlers(ctx: PhaseContext): HandlerSet {
  const media = (socket: TypedSocket) => liveOf(ctx, socket).media();
  const pid = (socket: TypedSocket) => socket.data.participantId;
  return new HandlerSet(ctx)
    .on('createTransport', (socket, p) => media(socket).createTransport(pid(socket), p.direction))
    .on('connectTransport', async (socket, p) => {
      await media(socket).connectTransport(pid(socket), p.transportId, p.dtlsParameters);
      return {};
    })
    .on('restartIce', async (socket, p) => ({ iceParameters: await media(socket).restartIce(pid(socket), p.transportId) }))
    .on('produce', async (socket, p) => {
      if (!sourcesOf[socket.data.role].includes(p.source)) throw new AppError('forbidden', `You cannot share your ${p.source}.`);
      if (kindOf[p.source] !== p.kind) throw new AppError('validation_failed', `A ${p.source} sends ${kindOf[p.source]}.`);
      const view = await media(socket).produce(pid(socket), p.transportId, p.kind, p.rtpParameters, p.source);
      liveOf(ctx, socket).produced(view);
      return { producerId: view.producerId };
    })
    .on('pauseProducer', async (socket, p) => {
      await media(socket).pauseProducer(pid(socket), p.id, p.paused);
      return {};
    })
    .on('sendingLayers', (socket, p) => {
      media(socket).sendingLayers(pid(socket), p.id, p.layers);
      return {};
    })
    .on('closeProducer', (socket, p) => {
      media(socket).closeProducer(pid(socket), p.id);
      return {};
    });
}

/** Who may send what: only the clinician shares a screen (the page offers it to nobody else). */
const sourcesOf: Record<Role, readonly ProduceSource[]> = {
  clinician: ['mic', 'camera', 'screen'],
  patient: ['mic', 'camera'],
  guest: ['mic', 'camera'],
};
const kindOf: Record<ProduceSource, 'audio' | 'video'> = { mic: 'audio', camera: 'video', screen: 'video' };

/** Leaving is allowed before and after joining; the connection closes once it is acknowledged. */
export async function leave(ctx: PhaseContext, socket: TypedSocket): Promise<Record<string, never>> {
  try {
    await ctx.live.find(socket.data.consultationId)?.leave(socket.data.participantId, socket.id);
  } finally {
    setImmediate(() => socket.disconnect(true));
  }
  return {};
}
