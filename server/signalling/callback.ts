/**
 * A patient's "phone me instead" request reaches the clinician's page at once: an emit to the
 * clinicians' connections of that consultation held on this node (`local`), and in a region a
 * message to the other nodes, whose holder does the same. The console, which reads the store,
 * sees the request wherever it was made.
 */
import type { Cluster } from '../cluster/cluster.js';
import type { Callbacks } from '../consultations/callbacks.js';
import type { TypedServer } from './signalling.js';

export function tellClinicians(io: TypedServer, callbacks: Callbacks, cluster: Cluster): void {
  const tell = (consultationId: string, at: number) => {
    for (const id of io.sockets.adapter.rooms.get(consultationId) ?? []) {
      const socket = io.sockets.sockets.get(id);
      if (socket?.data.role === 'clinician') socket.emit('callbackRequested', { at });
    }
  };
  callbacks.on('requested', ({ consultationId, at }) => {
    tell(consultationId, at);
    cluster.send('callback', { id: consultationId, at });
  });
  cluster.on('message', (...[type, body]) => {
    if (type === 'callback') tell(body.id, body.at);
  });
}
