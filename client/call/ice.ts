/**
 * ICE recovery for the call's transports: a path that fails, or stays disconnected for 2 s, gets
 * new ICE credentials; the transport and every producer and consumer on it are kept.
 */
import type { types } from 'mediasoup-client';
import { request, type SignalSocket } from '../signal.js';
import { mark } from '../timeline.js';

/** How long a 'disconnected' path may heal by itself (a brief loss) before ICE restarts. */
const HEAL_MS = 2000;

export class IceRecovery {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(
    private readonly socket: SignalSocket,
    /** A TURN server refused us (401: wrong credentials) or could not be reached (701). */
    private readonly onRelayError: ((code: number) => void) | undefined,
  ) {}

  watch(transport: types.Transport): void {
    transport.on('icecandidateerror', (e) => {
      mark(`${transport.direction}:ice-error:${e.errorCode}`);
      this.onRelayError?.(e.errorCode);
    });
    transport.on('connectionstatechange', (state) => {
      mark(`${transport.direction}:${state}`);
      clearTimeout(this.timers.get(transport.id));
      if (state === 'failed') void this.restart(transport);
      else if (state === 'disconnected') {
        this.timers.set(transport.id, setTimeout(() => {
          if (transport.connectionState !== 'connected' && !transport.closed) void this.restart(transport);
        }, HEAL_MS));
      }
    });
  }

  /** After a network change: fresh ICE at once on every open transport. */
  restartAll(transports: (types.Transport | undefined)[]): void {
    for (const t of transports) if (t && !t.closed) void this.restart(t);
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private async restart(transport: types.Transport): Promise<void> {
    try {
      const { iceParameters } = await request(this.socket, 'restartIce', { transportId: transport.id });
      if (!transport.closed) await transport.restartIce({ iceParameters: iceParameters as unknown as types.IceParameters });
      mark(`${transport.direction}:ice-restart`);
    } catch {
      // The socket is down too: its reconnection rejoins and rebuilds the transports.
    }
  }
}
