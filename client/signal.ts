/**
 * The typed socket.io connection's type and a request helper that turns Acks into promises.
 * No runtime import of socket.io-client here: the page loads it only for Join (media.ts).
 */
import type { Socket } from 'socket.io-client';
import type { Ack, ClientToServerEvents, ServerToClientEvents } from '../signalling/events.js';

export type SignalSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type Payload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
type Data<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[1] extends (res: Ack<infer T>) => void ? T : never;

export class SignalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 15_000;

export async function request<E extends keyof ClientToServerEvents>(socket: SignalSocket, event: E, payload: Payload<E>): Promise<Data<E>> {
  // socket.io's typings cannot follow a generic event name through emitWithAck.
  const timed = socket.timeout(TIMEOUT_MS);
  const emit = timed.emitWithAck as unknown as (e: E, p: Payload<E>) => Promise<Ack<Data<E>>>;
  let res: Ack<Data<E>>;
  try {
    res = await emit.call(timed, event, payload);
  } catch {
    throw new SignalError('timeout', 'The service did not answer in time.');
  }
  if (!res.ok) throw new SignalError(res.error.code, res.error.message);
  return res.data;
}
