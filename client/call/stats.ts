/** For diagnostics and tests (window.openconsult.stats): the network path and what is received. */
import type { types } from 'mediasoup-client';
import type { DirectCounts, DirectLink, DirectPair } from './p2p.js';
import type { PathPhase } from './path.js';

/** The network path a transport uses: `relay` means through TURN. */
export interface MediaPath {
  direction: 'send' | 'recv';
  localType: string;
  relayProtocol?: string;
  /** The path's round trip (STUN), seconds, and what the browser estimates it can send on it, bits/s. */
  roundTripTime?: number;
  availableOutgoingBitrate?: number;
}

/** Where a figure comes from: the SFU, or the direct connection (`shown`: what the page plays now). */
interface Via {
  via?: 'sfu' | 'p2p';
  shown?: boolean;
}

export interface RemoteStats {
  paths: MediaPath[];
  video: ({
    participantId: string; framesDecoded: number; frameWidth: number; frameHeight: number; packetsLost: number;
    packetsReceived: number; framesPerSecond: number; producerPaused: boolean;
  } & Via)[];
  audio: ({ participantId: string; packetsReceived: number; packetsLost: number } & Via)[];
  /** Peer-to-peer for two (call/path.ts): the path's phase and the direct connection's selected pair. */
  mediaPath?: PathPhase;
  direct?: DirectPair;
  /** Simulcast layers of our camera the browser encodes now, of those offered (call/sent-layers.ts). */
  camera?: { layers: number; offered: number };
}

/** What a page reports before it has a call. */
export const noStats = (): RemoteStats => ({ paths: [], video: [], audio: [] });

/**
 * Adds the direct connection's figures (and those of closed ones, so every count only grows) and
 * its selected candidate pair.
 */
export async function directStats(
  out: RemoteStats, phase: PathPhase, link: DirectLink | undefined, peerId: string | undefined, shownPeer: string | undefined,
  retired: readonly { peerId: string; counts: DirectCounts }[],
): Promise<void> {
  out.mediaPath = phase;
  const add = (participantId: string, c: DirectCounts, shown: boolean) => {
    if (c.hasVideo) {
      out.video.push({
        participantId, framesDecoded: c.framesDecoded, frameWidth: c.frameWidth, frameHeight: c.frameHeight, packetsLost: c.videoLost,
        packetsReceived: c.videoPackets, framesPerSecond: c.framesPerSecond, producerPaused: false, via: 'p2p', shown,
      });
    }
    out.audio.push({ participantId, packetsReceived: c.audioPackets, packetsLost: c.audioLost, via: 'p2p', shown });
  };
  for (const r of retired) add(r.peerId, r.counts, false);
  if (!link || !peerId) return;
  add(peerId, await link.counts(), shownPeer === peerId);
  const pair = await link.selectedPair();
  if (pair) out.direct = pair;
}

export async function collectStats(
  transports: (types.Transport | undefined)[],
  consumers: Iterable<{ consumer: types.Consumer; participantId: string; producerPaused: boolean }>,
): Promise<RemoteStats> {
  const out = noStats();
  for (const t of transports) {
    const path = t && !t.closed ? await pathOf(t) : undefined;
    if (path) out.paths.push(path);
  }
  for (const { consumer, participantId, producerPaused } of consumers) {
    const report = await consumer.getStats();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.video.push({
          participantId, framesDecoded: Number(s.framesDecoded ?? 0), frameWidth: Number(s.frameWidth ?? 0),
          frameHeight: Number(s.frameHeight ?? 0), packetsLost: Number(s.packetsLost ?? 0),
          packetsReceived: Number(s.packetsReceived ?? 0), framesPerSecond: Number(s.framesPerSecond ?? 0), producerPaused, via: 'sfu',
        });
      } else if (s.kind === 'audio') {
        out.audio.push({ participantId, packetsReceived: Number(s.packetsReceived ?? 0), packetsLost: Number(s.packetsLost ?? 0), via: 'sfu' });
      }
    });
  }
  return out;
}

async function pathOf(transport: types.Transport): Promise<MediaPath | undefined> {
  const report = await transport.getStats();
  const all = new Map<string, Record<string, unknown>>();
  report.forEach((s: Record<string, unknown>) => all.set(s.id as string, s));
  const pair = [...all.values()].find((s) => s.type === 'candidate-pair' && (s.nominated === true || s.selected === true) && s.state === 'succeeded');
  const local = pair ? all.get(pair.localCandidateId as string) : undefined;
  if (!local) return undefined;
  return {
    direction: transport.direction, localType: String(local.candidateType),
    ...(local.relayProtocol ? { relayProtocol: String(local.relayProtocol) } : {}),
    ...(typeof pair?.currentRoundTripTime === 'number' ? { roundTripTime: pair.currentRoundTripTime } : {}),
    ...(typeof pair?.availableOutgoingBitrate === 'number' ? { availableOutgoingBitrate: pair.availableOutgoingBitrate } : {}),
  };
}
