/**
 * What the page needs from Join on and not before: socket.io-client and mediasoup-client, about
 * four fifths of its script. join.ts loads this module while the person looks at their camera
 * check, so an old phone on 4G shows the check sooner and has it by the time they press Join.
 */
import { io } from 'socket.io-client';
import type { SignalSocket } from './signal.js';

export { Call } from './call.js';

export function connect(consultationId: string): SignalSocket {
  return io({ auth: { consultationId }, withCredentials: true, reconnectionDelayMax: 3000 });
}
