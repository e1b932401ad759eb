/**
 * The signalling connection and its reconnect policy. socket.io retries a dropped network by
 * itself; a disconnect the server asked for it does not retry, and neither do we, unless the
 * service said just before that it is restarting.
 *
 *   connecting -> connected <-> reconnecting
 *                 connected -> restarting (told) -> reconnecting (server let go) -> connected
 *   any -> refused (the handshake was turned down) | replaced (another window took over) | closed
 */
import { io } from 'socket.io-client';
import type { SignalSocket } from '../signal.js';
import { mark } from '../timeline.js';

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

  constructor(consultationId: string, private readonly events: ConnectionEvents) {
    const s = io({ auth: { consultationId }, withCredentials: true, reconnectionDelayMax: 3000 }) as SignalSocket;
    this.socket = s;
    s.on('connect', () => {
      mark('connected');
      this.to('connected');
      events.up();
    });
    s.on('connect_error', (err) => {
      const data = (err as Error & { data?: { code?: string; message?: string } }).data;
      if (!data?.code) return; // a network problem: socket.io keeps trying
      this.to('refused');
      s.disconnect();
      events.refused(data.code, data.message);
    });
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
    this.socket.off();
    this.socket.disconnect();
  }

  private dropped(reason: string): void {
    // Ours (closing, or renewing): nothing to recover.
    if (reason === 'io client disconnect' || !this.events.live()) return;
    if (reason === 'io server disconnect' && this.current === 'restarting') {
      this.to('reconnecting');
      this.events.lost('restart');
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
