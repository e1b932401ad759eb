/**
 * Turns a typed, schema-checked function into a socket.io listener that always answers with an
 * Ack: payloads that fail their schema never reach the handler, thrown AppErrors become coded
 * errors, anything else a generic one plus a log line. Nothing a client sends can crash us.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import type { Socket } from 'socket.io';
import { type Ack, type ClientToServerEvents, type ServerToClientEvents, type SocketData, clientEvents } from '../../signalling/events.js';
import { AppError, publicError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EventLimiter } from './rate.js';

export type TypedSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;
export type EventName = keyof ClientToServerEvents;

type Payload<E extends EventName> = Static<(typeof clientEvents)[E]>;
type AckData<E extends EventName> = Parameters<ClientToServerEvents[E]>[1] extends (res: Ack<infer T>) => void ? T : never;

type Listener = (this: TypedSocket, payload: unknown, ack: unknown) => void;

// Schemas are compiled once per process, not per socket: compiling is the costly part, and each
// compiled checker held per connection made a waiting patient weigh over twice a bare socket.
const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();
function checker<S extends TSchema>(schema: S): TypeCheck<S> {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c as TypeCheck<S>;
}

/**
 * A set of listeners that can be installed on a socket and removed again as its phase changes.
 * The listeners are made once for all sockets (socket.io calls them with the socket as `this`),
 * so a waiting patient's connection holds no closures of its own.
 */
export class HandlerSet {
  private readonly listeners = new Map<EventName, Listener>();

  constructor(private readonly deps: { logger: Logger; limiter: EventLimiter }) {}

  /**
   * Handles `event`: a token from the connection's bucket, then the payload checked against its
   * schema in `clientEvents`. `fn` starts synchronously, so what it does before its first
   * `await` (a phase change) is done before the connection's next event is dispatched.
   */
  on<E extends EventName>(event: E, fn: (socket: TypedSocket, payload: Payload<E>) => Promise<AckData<E>> | AckData<E>): this {
    const check = checker(clientEvents[event]);
    const { logger, limiter } = this.deps;
    this.listeners.set(event, function (this: TypedSocket, payload, ack) {
      if (typeof ack !== 'function') return; // every event of ours is acknowledged; others are noise
      const reply = ack as (res: Ack<AckData<E>>) => void;
      try {
        limiter.take(this);
      } catch (err) {
        reply({ ok: false, error: publicError(err) });
        return;
      }
      if (!check.Check(payload)) {
        const first = check.Errors(payload).First();
        const where = first?.path ? ` at ${first.path}` : '';
        reply({ ok: false, error: { code: 'validation_failed', message: `Invalid ${event} request${where}: ${first?.message ?? 'bad payload'}` } });
        return;
      }
      const socket = this;
      new Promise<AckData<E>>((resolve) => resolve(fn(socket, payload)))
        .then(
          (data) => reply({ ok: true, data }),
          (err: unknown) => {
            if (!(err instanceof AppError)) {
              const { consultationId, participantId } = socket.data;
              logger.error({ err, event, consultationId, participantId }, 'signalling handler failed');
            }
            reply({ ok: false, error: publicError(err) });
          },
        );
    });
    return this;
  }

  install(socket: TypedSocket): void {
    for (const [event, listener] of this.listeners) socket.on(event, listener as never);
  }

  remove(socket: TypedSocket): void {
    for (const [event, listener] of this.listeners) socket.off(event, listener as never);
  }
}
