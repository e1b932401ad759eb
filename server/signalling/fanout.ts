/**
 * From the live consultations' events to socket.io: messages become emits, disconnects close
 * connections (all of a participant's once their sessions are revoked), and an admitted
 * participant's connection gets the call's handlers.
 */
import type { LiveConsultation, Recipients } from '../consultations/live.js';
import type { LiveConsultations } from '../consultations/live-registry.js';
import type { HandlerSet } from './handler.js';
import type { TypedServer } from './signalling.js';

export function fanOut(io: TypedServer, live: LiveConsultations, call: HandlerSet): void {
  // `local`: a consultation's connections are all on the node that holds it (design.md 2.3), so
  // its messages never go through the region's adapter (and never wait for Redis).
  const to = (l: LiveConsultation, r: Recipients) => io.local.to(r === 'everyone' ? l.id : [...r]);
  live.on('send', (l, r, { event, args }) => (to(l, r).emit as (e: string, ...a: unknown[]) => boolean)(event, ...args));
  live.on('disconnect', (l, r, when) => {
    if (when === 'now') to(l, r).disconnectSockets(true);
    // After the current handler has acknowledged (the clinician's `end` gets its answer).
    else setImmediate(() => to(l, r).disconnectSockets());
  });
  // A connection that has not joined yet is in no room: found by who is on it.
  live.on('revoked', (consultationId, participantId) => {
    for (const socket of io.sockets.sockets.values()) {
      if (socket.data.participantId !== participantId || socket.data.consultationId !== consultationId) continue;
      socket.emit('removed');
      socket.disconnect(true);
    }
  });
  live.on('admitted', (_l, socketId) => {
    const socket = io.sockets.sockets.get(socketId);
    if (socket) call.install(socket);
  });
}
