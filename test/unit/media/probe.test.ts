import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_OPEN, PROBE_LIFETIME_MS, Probes } from '../../../server/media/probe.js';

/** Just what Probes uses of a mediasoup router and its WebRtcTransports. */
function fakeRouter() {
  let n = 0;
  const transports: { id: string; closed: boolean; close(): void; observer: EventEmitter }[] = [];
  const router = {
    closed: false,
    rtpCapabilities: { codecs: [] },
    close() { this.closed = true; },
    async createWebRtcTransport() {
      const observer = new EventEmitter();
      const t = {
        id: `t${++n}`, closed: false, observer, iceParameters: {}, iceCandidates: [], dtlsParameters: {}, sctpParameters: { port: 5000 },
        close() {
          if (t.closed) return;
          t.closed = true;
          observer.emit('close');
        },
        async connect() {},
      };
      transports.push(t);
      return t;
    },
  };
  return { router, transports };
}

function probesOn(now: () => number = Date.now) {
  const { router, transports } = fakeRouter();
  const probes = new Probes({ createRouter: async () => router as never, listenInfos: [], now });
  return { probes, transports, router };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('connection-check transports', () => {
  it('closes a check transport on its own after its lifetime, and when asked', async () => {
    vi.useFakeTimers();
    const { probes, transports } = probesOn();
    const a = await probes.create('p1');
    const b = await probes.create('p2');
    probes.close('p2', b.id);
    expect(transports.map((t) => t.closed)).toEqual([false, true]);
    // Someone else's id closes nothing.
    probes.close('p2', a.id);
    expect(probes.openCount).toBe(1);

    vi.advanceTimersByTime(PROBE_LIFETIME_MS);
    expect(transports[0]?.closed).toBe(true);
    expect(probes.openCount).toBe(0);
  });

  it("keeps one check open per participant: a new one replaces the earlier", async () => {
    const { probes, transports } = probesOn();
    await probes.create('p1');
    await probes.create('p1');
    expect(transports.map((t) => t.closed)).toEqual([true, false]);
  });

  it(`holds at most ${MAX_OPEN} open on the node`, async () => {
    const { probes } = probesOn();
    for (let i = 0; i < MAX_OPEN; i++) await probes.create(`p${i}`);
    await expect(probes.create('one-more')).rejects.toMatchObject({ code: 'rate_limited' });
  });

  it('remembers what a check found for two hours', () => {
    let now = 1_000_000;
    const { probes } = probesOn(() => now);
    probes.record('p1', 'relay');
    expect(probes.kindOf('p1')).toBe('relay');
    now += 2 * 3600_000;
    expect(probes.kindOf('p1')).toBeUndefined();
  });

  it('closes every check and its router on closeAll, and opens no more', async () => {
    const { probes, transports, router } = probesOn();
    await probes.create('p1');
    probes.closeAll();
    await Promise.resolve();
    await Promise.resolve();
    expect(transports[0]?.closed).toBe(true);
    expect(router.closed).toBe(true);
    await expect(probes.create('p2')).rejects.toMatchObject({ code: 'unavailable' });
  });
});
