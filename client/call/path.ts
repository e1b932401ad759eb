/**
 * Which path the other person's media takes to this page, in a call of two (issue #17).
 *
 *   sfu --(server: p2p)--> probing --(direct connected, frames decoded)--> direct
 *   probing --(failed, too slow, server or peer: sfu)--> sfu
 *   direct --(failed, frozen, server or peer: sfu)--> returning --(SFU frames again, or bounded)--> sfu
 *
 * The SFU stays connected throughout. The picture moves to the direct connection only once its
 * frames are decoded; then the peer is told (`direct`) and stops sending to the SFU (a path pause,
 * not a mute). Going back, our SFU sending resumes and the peer is told (`sfu`); the direct
 * connection keeps showing until the SFU delivers frames again, so the picture never goes black.
 */
import type { MediaPathInfo, P2pSignal } from '../../signalling/events.js';
import { mark } from '../timeline.js';
import { type DirectCounts, type DirectSignal, DirectLink } from './p2p.js';

export type PathPhase = 'sfu' | 'probing' | 'direct' | 'returning';

const moves: Record<PathPhase, readonly PathPhase[]> = {
  sfu: ['probing'],
  probing: ['direct', 'sfu'],
  direct: ['returning'],
  returning: ['sfu'],
};

/** Not connected and decoding within this long: the direct path is not worth waiting for. */
export const CONNECT_MS = 8_000;
/** Nothing new decoded on the direct path for this long (peer not muted): back to the SFU. */
export const FREEZE_MS = 2_500;
/** Going back waits at most this long for the SFU's frames before it shows them anyway. */
export const RETURN_MS = 3_000;
const TICK_MS = 200;
/** Samples 100 ms apart in a row with new SFU frames before the picture moves back to them. */
const SFU_STEADY = 5;

/** What the path needs of the call (client/call.ts). */
export interface PathPort {
  /** Our own camera and microphone: stop or start sending them to the SFU (nobody watches them there). */
  pauseSfuSending(paused: boolean): void;
  /** Frames decoded (audio packets when the peer sends no video) from the peer through the SFU. */
  sfuProgress(peerId: string): Promise<number>;
  /** Whether the peer sends video through the SFU and has it, or its mic, unmuted. */
  peerSends(peerId: string, kind: 'audio' | 'video'): boolean;
  /** Shows the peer's media from the direct connection, or (undefined) from the SFU again. */
  show(peerId: string, direct: DirectLink | undefined): void;
  localTracks(): { audio?: MediaStreamTrack | null | undefined; video?: MediaStreamTrack | null | undefined };
  signal(to: string, m: DirectSignal): void;
  /** The direct connection closed with these counts (kept so the figures stay cumulative). */
  retired(peerId: string, counts: DirectCounts): void;
}

export class MediaPathControl {
  private phase: PathPhase = 'sfu';
  private link: DirectLink | undefined;
  private peerId: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private since = 0;
  private last = -1;
  private advanced = 0;
  private stillSince = 0;
  /** Signals that came before the link they belong to. */
  private early: P2pSignal[] = [];
  private closed = false;
  /** Direct connections given up but still sending for a moment (see drop). */
  private readonly lingering = new Set<DirectLink>();
  /** Path changes one after the other: a new `p2p` waits for the return from the last one. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly port: PathPort) {}

  get current(): PathPhase {
    return this.phase;
  }

  get peer(): string | undefined {
    return this.peerId;
  }

  get direct(): DirectLink | undefined {
    return this.link;
  }

  /** What the server says. A new `p2p` while another is under way starts over from the SFU. */
  told(info: MediaPathInfo): Promise<void> {
    return this.serially(async () => {
      await this.leave(false);
      if (info.path === 'p2p' && !this.closed) this.probe(info);
    });
  }

  /** Something the peer relayed. */
  async signal(m: P2pSignal): Promise<void> {
    mark(`p2p-in:${m.description?.type ?? (m.candidate ? 'candidate' : m.state)}:${this.link ? 'link' : 'early'}`);
    if (m.state === 'direct') {
      // The peer shows our media from the direct connection: nobody needs it through the SFU.
      if (m.from === this.peerId && this.link) this.port.pauseSfuSending(true);
      return;
    }
    if (m.state === 'sfu') {
      if (m.from === this.peerId) await this.serially(() => this.leave(false));
      return;
    }
    if (!this.link || m.from !== this.peerId) {
      this.early.push(m);
      return;
    }
    await this.link.receive(m).catch(() => undefined);
  }

  /** A new network: fresh ICE on the direct connection (the freeze check falls back if that fails). */
  restartIce(): void {
    this.link?.restartIce();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.link?.close();
    this.link = undefined;
    for (const l of this.lingering) l.close();
  }

  private to(next: PathPhase): boolean {
    if (!moves[this.phase].includes(next)) return false;
    this.phase = next;
    mark(`path:${next}`);
    return true;
  }

  private probe(info: Extract<MediaPathInfo, { path: 'p2p' }>): void {
    if (!this.to('probing')) return;
    const peerId = info.peerId;
    this.peerId = peerId;
    this.link = new DirectLink(info, this.port.localTracks(), (m) => this.port.signal(peerId, m), (state) => {
      mark(`direct:${state}`);
      if (state === 'disconnected') this.link?.restartIce();
    });
    this.since = performance.now();
    this.last = -1;
    this.advanced = 0;
    const early = this.early.splice(0).filter((m) => m.from === peerId);
    void (async () => {
      for (const m of early) await this.signal(m);
    })();
    clearInterval(this.timer);
    this.timer = setInterval(() => void this.tick(), TICK_MS);
  }

  private async tick(): Promise<void> {
    const link = this.link;
    const peerId = this.peerId;
    if (!link || !peerId || (this.phase !== 'probing' && this.phase !== 'direct')) return;
    const now = performance.now();
    const progress = this.progress(peerId, await link.counts());
    if (this.link !== link) return;
    const moved = progress > this.last && this.last >= 0;
    this.last = progress;
    if (this.phase === 'probing') {
      if (link.state === 'failed' || now - this.since > CONNECT_MS) {
        mark(`p2p-fallback:${link.state === 'failed' ? 'failed' : 'slow'}`); // page telemetry reads it
        await this.serially(() => this.leave(true));
        return;
      }
      this.advanced = link.state === 'connected' && moved ? this.advanced + 1 : 0;
      // Two samples running: frames keep coming, not a lone one from the first packets.
      if (this.advanced >= 2 && this.to('direct')) {
        this.stillSince = now;
        this.port.show(peerId, link);
        this.port.signal(peerId, { state: 'direct' });
      }
      return;
    }
    const judged = this.port.peerSends(peerId, 'video') || this.port.peerSends(peerId, 'audio');
    if (moved || !judged) this.stillSince = now;
    if (link.state === 'failed' || now - this.stillSince > FREEZE_MS) {
      mark(`p2p-fallback:${link.state === 'failed' ? 'failed' : 'frozen'}`); // page telemetry reads it
      await this.serially(() => this.leave(true));
    }
  }

  private serially(work: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(work, work);
    return this.queue;
  }

  /** Frames decoded, or audio packets when the peer sends no video (or has it off). */
  private progress(peerId: string, c: DirectCounts): number {
    return this.port.peerSends(peerId, 'video') ? c.framesDecoded : c.audioPackets;
  }

  /**
   * Back to (or stay on) the SFU. `tell`: this page gave up on the direct connection, so the peer
   * hears it (the server then keeps the pair on the SFU).
   */
  private async leave(tell: boolean): Promise<void> {
    const link = this.link;
    const peerId = this.peerId;
    this.port.pauseSfuSending(false);
    if (!link || !peerId) return;
    if (tell) this.port.signal(peerId, { state: 'sfu' });
    if (this.phase === 'probing') {
      this.to('sfu');
      this.drop(peerId, link);
      return;
    }
    if (!this.to('returning')) return;
    // The SFU's frames must keep coming for a moment (a first few can be followed by a pause while
    // the SFU picks its simulcast layer); the direct connection shows meanwhile.
    let last = await this.port.sfuProgress(peerId);
    let running = 0;
    const until = performance.now() + RETURN_MS;
    while (performance.now() < until && !this.closed && running < SFU_STEADY) {
      await new Promise((r) => setTimeout(r, 100));
      const now = await this.port.sfuProgress(peerId);
      running = now > last ? running + 1 : 0;
      last = now;
    }
    this.port.show(peerId, undefined);
    this.to('sfu');
    this.drop(peerId, link);
  }

  /**
   * Forgets the direct connection. It keeps sending a while longer: the peer may still be waiting
   * for the SFU's frames before it stops showing ours.
   */
  private drop(peerId: string, link: DirectLink): void {
    clearInterval(this.timer);
    this.link = undefined;
    void link.counts().then((c) => this.port.retired(peerId, c));
    this.lingering.add(link);
    setTimeout(() => {
      this.lingering.delete(link);
      link.close();
    }, RETURN_MS);
  }
}
