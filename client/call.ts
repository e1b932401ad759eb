/**
 * The browser's side of the media: one mediasoup-client Device, a send transport carrying the
 * local camera and microphone, and a receive transport for everyone else. Remote tracks are
 * grouped per participant and handed to the page through `onRemoteStream`. In a call of two the
 * other person's camera and voice may come over a direct connection instead (call/path.ts): the
 * same stream then carries the direct tracks. Its helpers are in call/: ICE recovery, the flow
 * monitor, the diagnostics, the direct connection and its path.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { JoinInfo, MediaPathInfo, P2pSignal, ProducerView, TransportOptions } from '../signalling/events.js';
import { type FlowState, FlowMonitor, type Received } from './call/flow.js';
import { IceRecovery } from './call/ice.js';
import { audioCodecOptions, keepFrameRate, videoCodecOptions, videoEncodings } from './call/encodings.js';
import { watchSentLayers } from './call/sent-layers.js';
import type { DirectCounts, DirectLink } from './call/p2p.js';
import { MediaPathControl, type PathPort } from './call/path.js';
import { collectStats, directStats, type RemoteStats } from './call/stats.js';
import { request, type SignalSocket } from './signal.js';
import { mark } from './timeline.js';

export type { FlowState } from './call/flow.js';
export type { MediaPath, RemoteStats } from './call/stats.js';

/** One remote picture: a participant's camera (and voice), or their shared screen. */
export interface Tile {
  id: string;
  participantId: string;
  screen: boolean;
}

function tileOf(p: ProducerView): Tile {
  const screen = p.source === 'screen';
  return { id: screen ? `${p.participantId}-screen` : p.participantId, participantId: p.participantId, screen };
}

interface CallEvents {
  /** A TURN server refused us (401: wrong credentials) or could not be reached (701). */
  onRelayError?: (code: number) => void;
  onRemoteStream: (tile: Tile, stream: MediaStream) => void;
  onRemoteTrackEnded: (tile: Tile, stream: MediaStream) => void;
}

export class Call {
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<'audio' | 'video', types.Producer>();
  private readonly consumers = new Map<string, Received & { consumer: types.Consumer; tile: Tile }>();
  private readonly flow = new FlowMonitor();
  private readonly ice: IceRecovery;
  /** Producer ids being or already consumed: a producer can arrive in a list and as an event. */
  private readonly consumed = new Set<string>();
  private readonly streams = new Map<string, MediaStream>();
  /** Producers announced while our transports were still being set up: consumed once they are. */
  private readonly early: ProducerView[] = [];
  private closed = false;
  /** Peer-to-peer for two: the direct connection's path, and what is shown from it. */
  private readonly path: MediaPathControl;
  private shown: { peerId: string; link: DirectLink } | undefined;
  /** Our camera and mic stopped to the SFU while the peer shows them from the direct connection. */
  private pathPaused = false;
  /** How many of our camera's layers the browser sends (it drops the top ones when short of upload). */
  private camera: RemoteStats['camera'];
  private readonly retired: { peerId: string; counts: DirectCounts }[] = [];
  private startedResolve!: () => void;
  private readonly started = new Promise<void>((resolve) => {
    this.startedResolve = resolve;
  });

  constructor(
    private readonly socket: SignalSocket,
    private readonly events: CallEvents,
  ) {
    this.ice = new IceRecovery(socket, events.onRelayError);
    this.path = new MediaPathControl(this.pathPort());
  }

  /** Loads the device and opens both transports; sends local tracks if there are any. */
  async start(info: JoinInfo, local: MediaStream | undefined): Promise<void> {
    this.device = await Device.factory();
    await this.device.load({ routerRtpCapabilities: info.routerRtpCapabilities as unknown as types.RtpCapabilities });
    const [send, recv] = await Promise.all([
      request(this.socket, 'createTransport', { direction: 'send' }),
      request(this.socket, 'createTransport', { direction: 'recv' }),
    ]);
    this.sendTransport = this.device.createSendTransport(this.transportOptions(send, info));
    this.recvTransport = this.device.createRecvTransport(this.transportOptions(recv, info));
    this.wireConnect(this.sendTransport);
    this.wireConnect(this.recvTransport);
    this.sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source === 'screen' ? 'screen' : kind === 'audio' ? 'mic' : 'camera';
      request(this.socket, 'produce', {
        transportId: this.sendTransport?.id ?? '', kind, rtpParameters: rtpParameters as unknown as Record<string, unknown>, source,
      }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    if (local) await this.produce(local);
    await this.consumeAll(this.early.splice(0));
    this.startedResolve();
  }

  /** The server's word on the path (may come before start() is done: applied after it). */
  setPath(info: MediaPathInfo): void {
    void this.started.then(() => (this.closed ? undefined : this.path.told(info)));
  }

  /** A description, candidate or path change relayed from the peer. */
  p2pSignal(m: P2pSignal): void {
    void this.path.signal(m);
  }

  async consumeAll(producers: ProducerView[]): Promise<void> {
    await Promise.all(producers.map((p) => this.consume(p)));
  }

  async consume(p: ProducerView): Promise<void> {
    if (this.closed || this.consumed.has(p.producerId)) return;
    // After a rejoin both sides set up at once: a producer can be announced before we can receive.
    if (!this.device || !this.recvTransport) {
      this.early.push(p);
      return;
    }
    this.consumed.add(p.producerId);
    try {
      const options = await request(this.socket, 'consume', {
        producerId: p.producerId,
        rtpCapabilities: this.device.rtpCapabilities as unknown as Record<string, unknown>,
      });
      const consumer = await this.recvTransport.consume({
        id: options.id, producerId: options.producerId, kind: options.kind,
        rtpParameters: options.rtpParameters as unknown as types.RtpParameters,
      });
      const tile = tileOf(p);
      this.consumers.set(consumer.id, { consumer, participantId: p.participantId, tile, producerPaused: options.producerPaused });
      mark(`consumer:${consumer.kind}`);
      const stream = this.streamOf(tile.id);
      // Shown from the direct connection: the SFU's track waits aside until the path returns.
      if (!this.directTile(tile)) stream.addTrack(consumer.track);
      this.events.onRemoteStream(tile, stream);
      await request(this.socket, 'resumeConsumer', { id: consumer.id });
      mark(`resumed:${consumer.kind}`);
    } catch (err) {
      this.consumed.delete(p.producerId);
      throw err;
    }
  }

  /** The remote producer went away (the other side left, muted its camera, or reconnects). */
  producerClosed(producerId: string): void {
    this.consumed.delete(producerId);
    for (const [id, { consumer, tile }] of this.consumers) {
      if (consumer.producerId !== producerId) continue;
      consumer.close();
      this.consumers.delete(id);
      const stream = this.streams.get(tile.id);
      if (stream) {
        stream.removeTrack(consumer.track);
        this.events.onRemoteTrackEnded(tile, stream);
      }
    }
  }

  /** Forget everything received from one participant (they left or dropped). */
  forget(participantId: string): void {
    for (const [, { consumer, participantId: owner }] of this.consumers) {
      if (owner === participantId) this.producerClosed(consumer.producerId);
    }
    this.streams.delete(participantId);
    this.streams.delete(`${participantId}-screen`);
  }

  /** The owner muted or unmuted a producer we consume. */
  producerPaused(producerId: string, paused: boolean): void {
    for (const c of this.consumers.values()) if (c.consumer.producerId === producerId) c.producerPaused = paused;
  }

  setMicEnabled(enabled: boolean): Promise<void> {
    return this.setEnabled('audio', enabled);
  }

  setCameraEnabled(enabled: boolean): Promise<void> {
    return this.setEnabled('video', enabled);
  }

  /** Called once a second: per remote participant, whether packets keep arriving (call/flow.ts). */
  sampleFlow(): Promise<Map<string, FlowState>> {
    // On the direct path, the peer's media is judged there (its SFU producers are paused).
    const received = [...this.consumers.values()].map((r) => {
      const link = this.directTile(r.tile) ? this.shown?.link : undefined;
      if (!link) return r;
      const kind = r.consumer.kind;
      return { ...r, consumer: { closed: false, getStats: () => link.statsOf(kind) as Promise<RTCStatsReport> } };
    });
    return this.flow.sample(received);
  }

  /** Another camera (front or back): the producer keeps going with the new track. */
  async replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    const producer = this.producers.get('video');
    await producer?.replaceTrack({ track });
    if (this.pathPaused) await producer?.rtpSender?.replaceTrack(null);
    await this.path.direct?.replaceVideoTrack(track);
  }

  /** Shares a screen (or window); resolves to a function that stops sharing. */
  async shareScreen(track: MediaStreamTrack): Promise<() => Promise<void>> {
    if (!this.sendTransport) throw new Error('not connected');
    const producer = await this.sendTransport.produce({ track, appData: { source: 'screen' } });
    return async () => {
      producer.close();
      track.stop();
      await request(this.socket, 'closeProducer', { id: producer.id }).catch(() => undefined);
    };
  }

  /** After a network change: new ICE credentials on both transports, keeping them and all media. */
  restartIce(): void {
    this.ice.restartAll([this.sendTransport, this.recvTransport]);
    this.path.restartIce();
  }

  /** For diagnostics and tests: what is being received, per participant, and on which path. */
  async stats(): Promise<RemoteStats> {
    const out = await collectStats([this.sendTransport, this.recvTransport], this.consumers.values());
    const shown = this.shown;
    for (const v of [...out.video, ...out.audio]) v.shown = shown?.peerId !== v.participantId;
    await directStats(out, this.path.current, this.path.direct, this.path.peer, shown?.peerId, this.retired);
    if (this.camera) out.camera = this.camera;
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ice.close();
    this.path.close();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.consumers.clear();
    this.streams.clear();
  }

  private async produce(local: MediaStream): Promise<void> {
    const transport = this.sendTransport;
    if (!transport || !this.device) return;
    const audio = local.getAudioTracks()[0];
    const video = local.getVideoTracks()[0];
    const jobs: Promise<void>[] = [];
    if (audio && this.device.canProduce('audio')) {
      // stopTracks: false: the page owns the camera and mic; a media reset must not switch them off.
      jobs.push(transport.produce({ track: audio, stopTracks: false, codecOptions: audioCodecOptions }).then((p) => {
        this.producers.set('audio', p);
      }));
    }
    if (video && this.device.canProduce('video')) {
      jobs.push(transport.produce({
        track: video,
        stopTracks: false,
        encodings: videoEncodings,
        codecOptions: videoCodecOptions,
      }).then(async (p) => {
        this.producers.set('video', p);
        await keepFrameRate(p.rtpSender);
        watchSentLayers(p, (layers, offered) => {
          this.camera = { layers, offered };
          void request(this.socket, 'sendingLayers', { id: p.id, layers }).catch(() => undefined);
        });
      }));
    }
    await Promise.all(jobs);
  }

  private async setEnabled(kind: 'audio' | 'video', enabled: boolean): Promise<void> {
    const p = this.producers.get(kind);
    if (!p) return;
    if (enabled) p.resume();
    else p.pause();
    await request(this.socket, 'pauseProducer', { id: p.id, paused: !enabled });
  }

  private transportOptions(t: TransportOptions, info: JoinInfo): types.TransportOptions {
    return {
      id: t.id,
      iceParameters: t.iceParameters as unknown as types.IceParameters,
      iceCandidates: t.iceCandidates as unknown as types.IceCandidate[],
      dtlsParameters: t.dtlsParameters as unknown as types.DtlsParameters,
      iceServers: info.iceServers,
      iceTransportPolicy: info.iceTransportPolicy,
    };
  }

  private wireConnect(transport: types.Transport): void {
    this.ice.watch(transport);
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      request(this.socket, 'connectTransport', {
        transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, unknown>,
      }).then(() => callback(), errback);
    });
  }

  /** The peer's camera tile while it shows the direct connection's media. */
  private directTile(tile: Tile): boolean {
    return !tile.screen && this.shown?.peerId === tile.participantId;
  }

  private pathPort(): PathPort {
    const sfuOf = (peerId: string, kind: 'audio' | 'video') =>
      [...this.consumers.values()].find((r) => r.participantId === peerId && !r.tile.screen && r.consumer.kind === kind);
    return {
      pauseSfuSending: (paused) => {
        if (this.pathPaused === paused) return;
        this.pathPaused = paused;
        // The sender itself, not producer.pause(): that is the person's mute, and it would disable
        // the camera track the direct connection sends too.
        for (const p of this.producers.values()) void p.rtpSender?.replaceTrack(paused ? null : p.track).catch(() => undefined);
      },
      sfuProgress: async (peerId) => {
        const video = sfuOf(peerId, 'video');
        const r = video && !video.producerPaused ? video : sfuOf(peerId, 'audio');
        if (!r) return 0;
        let n = 0;
        (await r.consumer.getStats()).forEach((s: Record<string, unknown>) => {
          if (s.type === 'inbound-rtp') n += Number(r === video ? s.framesDecoded ?? 0 : s.packetsReceived ?? 0);
        });
        return n;
      },
      peerSends: (peerId, kind) => {
        const r = sfuOf(peerId, kind);
        return r !== undefined && !r.producerPaused;
      },
      show: (peerId, link) => {
        this.shown = link ? { peerId, link } : undefined;
        const stream = this.streamOf(peerId);
        for (const kind of ['audio', 'video'] as const) {
          const want = link?.track(kind) ?? sfuOf(peerId, kind)?.consumer.track;
          for (const t of kind === 'audio' ? stream.getAudioTracks() : stream.getVideoTracks()) if (t !== want) stream.removeTrack(t);
          if (want && !stream.getTracks().includes(want)) stream.addTrack(want);
        }
        mark(link ? 'shown:direct' : 'shown:sfu');
        this.events.onRemoteStream({ id: peerId, participantId: peerId, screen: false }, stream);
      },
      localTracks: () => ({ audio: this.producers.get('audio')?.track, video: this.producers.get('video')?.track }),
      signal: (to, m) => {
        request(this.socket, 'p2pSignal', { to, ...m } as never).catch((err: unknown) => mark(`p2p-signal-refused:${(err as { code?: string }).code ?? ''}`));
      },
      retired: (peerId, counts) => {
        this.retired.push({ peerId, counts });
      },
    };
  }

  private streamOf(participantId: string): MediaStream {
    let s = this.streams.get(participantId);
    if (!s) {
      s = new MediaStream();
      this.streams.set(participantId, s);
    }
    return s;
  }
}
