/**
 * A patient's "phone me instead" request reaches the clinician's page at once: an emit to the
 * clinicians' connections of that consultation held on this node (`local`: in a region, another
 * node holds the others; the console, which polls the store, sees the request wherever it is).
 */
import type { Callbacks } from '../consultations/callbacks.js';
import type { TypedServer } from './signalling.js';

export function tellClinicians(io: TypedServer, callbacks: Callbacks): void {
  callbacks.on('requested', ({ consultationId, at }) => {
    for (const id of io.sockets.adapter.rooms.get(consultationId) ?? []) {
      const socket = io.sockets.sockets.get(id);
      if (socket?.data.role === 'clinician') socket.emit('callbackRequested', { at });
    }
  });
}
