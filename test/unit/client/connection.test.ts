/**
 * The join page's reconnect policy (client/page/connection.ts) against a stand-in socket:
 * socket.io retries a network drop itself; a disconnect the server asked for is retried only
 * after the service said it is restarting. In a region: `moved` sends the page to the node
 * holding the consultation at once, `unavailable` is retried after a pause, and every retry
 * after a drop starts again at the default path.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

/** socket.io's Manager as far as the page uses it: the options of the next connection, its events. */
class FakeManager {
  opts = { path: '/socket.io' };
  private readonly handlers = new Map<string, (() => void)[]>();
  on(event: string, fn: () => void): this {
    this.handlers.set(event, [...(this.handlers.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string): void {
    for (const fn of this.handlers.get(event) ?? []) fn();
  }
}

class FakeSocket {
  connected = false;
  connects = 0;
  /** The path each connect() went to. */
  paths: string[] = [];
  io = new FakeManager();
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
    this.paths.push(this.io.opts.path);
    return this;
  }
  disconnect(): this {
    this.connected = false;
    this.emit('disconnect', 'io client disconnect');
    return this;
  }
}

let socket: FakeSocket;
let options: Record<string, unknown> = {};
vi.mock('socket.io-client', () => ({
  io: (opts: Record<string, unknown>) => {
    options = opts;
    return socket;
  },
}));
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

  it('starts at the default path with WebSocket first, polling as the fallback', () => {
    open();
    expect(options).toMatchObject({ path: '/socket.io', transports: ['websocket', 'polling'], tryAllTransports: true });
  });

  it('connects at once to the node that holds the consultation when told it moved', () => {
    const { connection, events } = open();
    socket.emit('connect_error', moved('/node/node-b/socket.io'));
    expect(socket.paths).toEqual(['/node/node-b/socket.io']);
    expect(events.refused).not.toHaveBeenCalled();
    expect(events.lost).not.toHaveBeenCalled();
    socket.emit('connect');
    expect(connection.state).toBe('connected');
  });

  it('refuses a move anywhere but a node path on this origin', () => {
    for (const path of ['//evil.example/socket.io', 'https://evil.example/node/a/socket.io', '/node/../socket.io', undefined]) {
      socket = new FakeSocket();
      const { events } = open();
      socket.emit('connect_error', moved(path));
      expect(socket.connects).toBe(0);
      expect(events.refused).toHaveBeenCalledWith('moved', 'held elsewhere');
    }
  });

  describe('with a clock', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('keeps trying, from the default path, 1 to 3 s after the region said it is unavailable', () => {
      const { connection, events } = open();
      socket.emit('connect');
      socket.emit('disconnect', 'transport close');
      socket.emit('connect_error', moved('/node/node-a/socket.io'));
      socket.emit('connect_error', Object.assign(new Error('busy'), { data: { code: 'unavailable', message: 'Trying again…' } }));
      expect(events.refused).not.toHaveBeenCalled();
      expect(events.lost).toHaveBeenLastCalledWith('network');
      vi.advanceTimersByTime(999);
      expect(socket.connects).toBe(1);
      vi.advanceTimersByTime(2001);
      expect(socket.paths).toEqual(['/node/node-a/socket.io', '/socket.io']);
      expect(connection.state).toBe('reconnecting');
    });

    it('stops following moves at once after two in a row, waits, then follows the next one', () => {
      const { events } = open();
      for (const id of ['a', 'b', 'c']) socket.emit('connect_error', moved(`/node/node-${id}/socket.io`));
      expect(socket.paths).toEqual(['/node/node-a/socket.io', '/node/node-b/socket.io']);
      vi.advanceTimersByTime(3000);
      expect(socket.paths).toEqual(['/node/node-a/socket.io', '/node/node-b/socket.io', '/socket.io']);
      // After the pause, the next move is followed at once again.
      socket.emit('connect_error', moved('/node/node-c/socket.io'));
      expect(socket.paths).toEqual(['/node/node-a/socket.io', '/node/node-b/socket.io', '/socket.io', '/node/node-c/socket.io']);
      expect(events.refused).not.toHaveBeenCalled();
    });

    it('sends no retry after the page closed the connection', () => {
      const { connection } = open();
      socket.emit('connect_error', Object.assign(new Error('busy'), { data: { code: 'unavailable' } }));
      connection.close();
      vi.advanceTimersByTime(3000);
      expect(socket.connects).toBe(0);
    });
  });

  it('goes back to the default path before each of socket.io\'s reconnection attempts', () => {
    open();
    socket.emit('connect_error', moved('/node/node-c/socket.io'));
    socket.emit('connect');
    expect(socket.io.opts.path).toBe('/node/node-c/socket.io');
    socket.emit('disconnect', 'transport close');
    socket.io.emit('reconnect_attempt');
    expect(socket.io.opts.path).toBe('/socket.io');
  });

  it('reconnects from the default path when a draining node hands the call over', () => {
    open();
    socket.emit('connect_error', moved('/node/node-c/socket.io'));
    socket.emit('connect');
    socket.emit('serviceRestarting');
    socket.emit('disconnect', 'io server disconnect');
    expect(socket.paths).toEqual(['/node/node-c/socket.io', '/socket.io']);
  });
});

function moved(path: unknown): Error {
  return Object.assign(new Error('held elsewhere'), { data: { code: 'moved', message: 'held elsewhere', path } });
}
