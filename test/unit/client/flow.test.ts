/** Whether media still arrives from each participant (client/call/flow.ts), from stand-in consumers. */
import { describe, expect, it } from 'vitest';
import type { types } from 'mediasoup-client';
import { FlowMonitor, type Received } from '../../../client/call/flow.js';

/** A consumer whose inbound packet count is whatever `packets` says when sampled. */
function receiving(participantId: string, packets: { n: number }, producerPaused = false): Received {
  const consumer = {
    closed: false,
    getStats: async () => new Map([['in', { type: 'inbound-rtp', packetsReceived: packets.n }]]),
  } as unknown as types.Consumer;
  return { consumer, participantId, producerPaused };
}

describe('the flow monitor', () => {
  it('calls media stalled after three samples without a new packet, and flowing again when packets return', async () => {
    const packets = { n: 10 };
    const monitor = new FlowMonitor();
    const all = [receiving('p1', packets)];
    expect((await monitor.sample(all)).get('p1')).toBe('flowing');
    expect((await monitor.sample(all)).get('p1')).toBe('flowing');
    expect((await monitor.sample(all)).get('p1')).toBe('flowing');
    expect((await monitor.sample(all)).get('p1')).toBe('stalled');
    packets.n = 20;
    expect((await monitor.sample(all)).get('p1')).toBe('flowing');
  });

  it('does not count muted media as a fault', async () => {
    const monitor = new FlowMonitor();
    const all = [receiving('p1', { n: 5 }, true)];
    for (let i = 0; i < 5; i++) expect((await monitor.sample(all)).get('p1')).toBe('muted');
  });

  it('adds up a participant\'s audio and video', async () => {
    const audio = { n: 1 };
    const video = { n: 1 };
    const monitor = new FlowMonitor();
    const all = [receiving('p1', audio), receiving('p1', video)];
    for (let i = 0; i < 3; i++) {
      video.n += 1;
      expect((await monitor.sample(all)).get('p1')).toBe('flowing');
    }
  });
});
