/**
 * The signalling connection and its reconnect policy. socket.io retries a dropped network by
 * itself; a disconnect the server asked for it does not retry, and neither do we, unless the
 * service said just before that it is restarting.
 *
 * In a region (design.md 2.3) one node holds each live consultation. A node that does not hold
 * ours refuses the handshake with `moved` and the holder's path (`/node/<id>/socket.io`, which the
 * load balancer routes to it): the page connects there at once. `unavailable` (the region cannot
 * say where, for a moment) is retried after 1-3 s. Every reconnection after a drop starts again at
 * the default path, so a lost node's path is never retried forever: the node reached then places
 * the consultation anew and answers `moved` if it is elsewhere.
 *
 *   connecting -> connected <-> reconnecting
 *                 connected -> restarting (told) -> reconnecting (server let go) -> connected
 *   any -> refused (the handshake was turned down) | replaced (another window took over) | closed
 */
import { io } from 'socket.io-client';
import type { SignalSocket } from '../signal.js';
import { mark } from '../timeline.js';

/** Where every connection starts (design.md 5); a node's own path comes only from `moved`. */
export const DEFAULT_PATH = '/socket.io';
/** Back-off before trying again when the region is unavailable (random in between: nodes restart together). */
export const RETRY_MS = { min: 1000, max: 3000 } as const;
/** Moves in a row followed at once; more (placement changing meanwhile) wait as `unavailable` does. */
const QUICK_MOVES = 2;

export type ConnectionState = 'connecting' | 'connected' | 'restarting' | 'reconnecting' | 'refused' | 'replaced' | 'closed';

const next: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ['connected', 'refused', 'closed'],
  connected: ['restarting', 'reconnecting', 'replaced', 'closed'],
  restarting: ['reconnecting', 'closed'],
  reconnecting: ['connected', 'refused', 'closed'],
  refused: [],
  replaced: [],
  closed: [],
};

export interface ConnectionEvents {
  /** Connected, first time or again: the page (re)joins if it is past the check step. */
  up(): void;
  /** The connection dropped and is being re-established (`restart`: the service restarts). */
  lost(why: 'network' | 'restart'): void;
  /** The handshake was refused with a code (the consultation is over, or the session is not valid). */
  refused(code: string, message: string | undefined): void;
  /** The server closed this connection for good: the consultation is open in another window. */
  replaced(): void;
  /** Whether a drop matters: not before the person pressed Join, nor after the end. */
  live(): boolean;
}

export class Connection {
  readonly socket: SignalSocket;
  private current: ConnectionState = 'connecting';
  private moves = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(consultationId: string, private readonly events: ConnectionEvents) {
    // WebSocket first: one request per connection, so a balancer needs no sticky sessions for the
    // default path; long-polling only where WebSockets are blocked.
    const s = io({
      auth: { consultationId }, withCredentials: true, reconnectionDelayMax: 3000, path: DEFAULT_PATH,
      transports: ['websocket', 'polling'], tryAllTransports: true,
    }) as SignalSocket;
    this.socket = s;
    s.on('connect', () => {
      mark('connected');
      this.moves = 0;
      this.to('connected');
      events.up();
    });
    s.on('connect_error', (err) => {
      const data = (err as Error & { data?: { code?: string; message?: string; path?: unknown } }).data;
      if (!data?.code) return; // a network problem: socket.io keeps trying
      if (data.code === 'moved' && isNodePath(data.path)) this.move(data.path);
      else if (data.code === 'unavailable') this.later();
      else {
        this.to('refused');
        s.disconnect();
        events.refused(data.code, data.message);
      }
    });
    // socket.io's own retries after a drop (the node may be gone): from the default path again.
    s.io.on('reconnect_attempt', () => this.at(DEFAULT_PATH));
    s.on('serviceRestarting', () => {
      this.to('restarting');
    });
    s.on('disconnect', (reason) => this.dropped(reason));
  }

  get state(): ConnectionState {
    return this.current;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Our media server went away: a fresh connection (and join) sets everything up again. */
  renew(): void {
    this.socket.disconnect().connect();
  }

  close(): void {
    this.to('closed');
    clearTimeout(this.retry);
    this.socket.off();
    this.socket.disconnect();
  }

  /** Another node holds the consultation: connect there (a refused handshake left the socket closed). */
  private move(path: string): void {
    mark('moved');
    this.moves += 1;
    if (this.moves > QUICK_MOVES) {
      this.later();
      return;
    }
    this.at(path);
    this.socket.connect();
  }

  /** The region cannot place us now: say so, and try again from the default path in a moment. */
  private later(): void {
    mark('unavailable');
    if (this.events.live()) this.events.lost('network');
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.moves = 0; // after a pause, a move is followed at once again
      this.at(DEFAULT_PATH);
      this.socket.connect();
    }, RETRY_MS.min + Math.random() * (RETRY_MS.max - RETRY_MS.min));
  }

  private at(path: string): void {
    this.socket.io.opts.path = path;
  }

  private dropped(reason: string): void {
    // Ours (closing, or renewing): nothing to recover.
    if (reason === 'io client disconnect' || !this.events.live()) return;
    if (reason === 'io server disconnect' && this.current === 'restarting') {
      this.to('reconnecting');
      this.events.lost('restart');
      // A draining node hands its calls over: start again where any node answers.
      this.at(DEFAULT_PATH);
      this.socket.connect();
    } else if (reason === 'io server disconnect') {
      this.to('replaced');
      this.events.replaced();
    } else {
      this.to('reconnecting');
      this.events.lost('network');
    }
  }

  private to(to: ConnectionState): void {
    if (next[this.current].includes(to)) this.current = to;
  }
}

/** A node's socket.io path on this origin, as the handshake's `moved` names it (nodeSocketPath). */
function isNodePath(path: unknown): path is string {
  return typeof path === 'string' && /^\/node\/[a-z0-9][a-z0-9-]{0,31}\/socket\.io$/.test(path);
}
