/**
 * The join page's reconnect policy (client/page/connection.ts) against a stand-in socket:
 * socket.io retries a network drop itself; a disconnect the server asked for is retried only
 * after the service said it is restarting.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';

class FakeSocket {
  connected = false;
  connects = 0;
  private readonly handlers = new Map<string, ((...args: unknown[]) => void)[]>();
  on(event: string, fn: (...args: unknown[]) => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  off(): this {
    this.handlers.clear();
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.handlers.get(event) ?? []) fn(...args);
  }
  connect(): this {
    this.connects += 1;
    return this;
  }
  disconnect(): this {
    this.connected = false;
    this.emit('disconnect', 'io client disconnect');
    return this;
  }
}

let socket: FakeSocket;
vi.mock('socket.io-client', () => ({ io: () => socket }));
const { Connection } = await import('../../../client/page/connection.js');

function open(live = true) {
  const events = { up: vi.fn(), lost: vi.fn(), refused: vi.fn(), replaced: vi.fn(), live: () => live };
  const connection = new Connection('c1', events);
  return { connection, events };
}

describe('the join page connection', () => {
  beforeEach(() => {
    socket = new FakeSocket();
  });

  it('says it is up on each connect, and reconnecting on a network drop', () => {
    const { connection, events } = open();
    socket.emit('connect');
    expect(connection.state).toBe('connected');
    socket.emit('disconnect', 'transport close');
    expect(connection.state).toBe('reconnecting');
    expect(events.lost).toHaveBeenCalledWith('network');
    socket.emit('connect');
    expect(events.up).toHaveBeenCalledTimes(2);
    expect(socket.connects).toBe(0);
  });

  it('reconnects by itself after the server let go because it restarts', () => {
    const { connection, events } = open();
    socket.emit('connect');
    socket.emit('serviceRestarting');
    expect(connection.state).toBe('restarting');
    socket.emit('disconnect', 'io server disconnect');
    expect(events.lost).toHaveBeenCalledWith('restart');
    expect(socket.connects).toBe(1);
    expect(events.replaced).not.toHaveBeenCalled();
  });

  it('stays down when the server let go without a restart notice', () => {
    const { connection, events } = open();
    socket.emit('connect');
    socket.emit('disconnect', 'io server disconnect');
    expect(connection.state).toBe('replaced');
    expect(events.replaced).toHaveBeenCalledOnce();
    expect(socket.connects).toBe(0);
  });

  it('ignores drops before Join and its own disconnects', () => {
    const { events } = open(false);
    socket.emit('connect');
    socket.emit('disconnect', 'io server disconnect');
    socket.emit('disconnect', 'transport close');
    expect(events.lost).not.toHaveBeenCalled();
    expect(events.replaced).not.toHaveBeenCalled();
  });

  it('gives up on a refused handshake with a code, and keeps trying on one without', () => {
    const { connection, events } = open();
    socket.emit('connect_error', new Error('xhr poll error'));
    expect(events.refused).not.toHaveBeenCalled();
    socket.emit('connect_error', Object.assign(new Error('closed'), { data: { code: 'consultation_closed', message: 'It has ended.' } }));
    expect(connection.state).toBe('refused');
    expect(events.refused).toHaveBeenCalledWith('consultation_closed', 'It has ended.');
  });
});
