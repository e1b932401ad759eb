/**
 * Whether media still arrives from each remote participant. Muted media is not a fault; media
 * that stops for a few seconds means their connection (or ours) dropped.
 */
import type { types } from 'mediasoup-client';

/** What arrives from one remote participant, judged over the last few seconds. */
export type FlowState = 'flowing' | 'stalled' | 'muted';

/** Seconds without a single new packet before a participant's media counts as stalled. */
const STALL_SAMPLES = 3;

export interface Received {
  /** A consumer, or whatever carries that participant's media on the path in use (call/path.ts). */
  consumer: Pick<types.Consumer, 'closed' | 'getStats'>;
  participantId: string;
  producerPaused: boolean;
}

export class FlowMonitor {
  /** Per participant: the packet count last sampled and for how many samples it has not moved. */
  private readonly last = new Map<string, { packets: number; still: number }>();

  /** Called once a second with everything being received. */
  async sample(received: Iterable<Received>): Promise<Map<string, FlowState>> {
    const all = [...received];
    const packets = new Map<string, number>();
    const live = new Set<string>();
    for (const { consumer, participantId, producerPaused } of all) {
      if (producerPaused || consumer.closed) continue;
      live.add(participantId);
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') packets.set(participantId, (packets.get(participantId) ?? 0) + Number(s.packetsReceived ?? 0));
      });
    }
    const out = new Map<string, FlowState>();
    for (const { participantId } of all) {
      if (!live.has(participantId)) {
        out.set(participantId, 'muted');
        this.last.delete(participantId);
        continue;
      }
      const now = packets.get(participantId) ?? 0;
      const prev = this.last.get(participantId);
      // Any change is news: the count starts afresh when media moves to another path (call/path.ts).
      const still = prev && now === prev.packets ? prev.still + 1 : 0;
      this.last.set(participantId, { packets: now, still });
      out.set(participantId, still >= STALL_SAMPLES ? 'stalled' : 'flowing');
    }
    return out;
  }
}
