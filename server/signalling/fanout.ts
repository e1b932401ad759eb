/**
 * From a live consultation's events to socket.io: messages become emits, disconnects close
 * connections, and an admitted participant's connection gets the call's handlers.
 */
import type { LiveConsultation, Recipients } from '../consultations/live.js';
import type { HandlerSet } from './handler.js';
import type { TypedServer } from './signalling.js';

export function fanOut(io: TypedServer, live: LiveConsultation, call: HandlerSet): void {
  const to = (r: Recipients) => io.to(r === 'everyone' ? live.id : [...r]);
  live.on('send', (r, { event, args }) => (to(r).emit as (e: string, ...a: unknown[]) => boolean)(event, ...args));
  live.on('disconnect', (r, when) => {
    if (when === 'now') to(r).disconnectSockets(true);
    // After the current handler has acknowledged (the clinician's `end` gets its answer).
    else setImmediate(() => to(r).disconnectSockets());
  });
  live.on('admitted', (socketId) => {
    const socket = io.sockets.sockets.get(socketId);
    if (socket) call.install(socket);
  });
}
