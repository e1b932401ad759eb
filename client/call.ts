/**
 * The browser's side of the media: one mediasoup-client Device, a send transport carrying the
 * local camera and microphone, and a receive transport for everyone else. Remote tracks are
 * grouped per participant and handed to the page through `onRemoteStream`.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { JoinInfo, ProducerView, TransportOptions } from '../signalling/events.js';
import { request, type SignalSocket } from './signal.js';
import { mark } from './timeline.js';

/** The network path a transport uses: `relay` means through TURN. */
export interface MediaPath {
  direction: 'send' | 'recv';
  localType: string;
  relayProtocol?: string;
}

export interface RemoteStats {
  paths: MediaPath[];
  video: { participantId: string; framesDecoded: number; frameWidth: number; frameHeight: number; packetsLost: number }[];
  audio: { participantId: string; packetsReceived: number; packetsLost: number }[];
}

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

/** What arrives from one remote participant, judged over the last few seconds. */
export type FlowState = 'flowing' | 'stalled' | 'muted';

/** Seconds without a single new packet before a participant's media counts as stalled. */
const STALL_SAMPLES = 3;

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
  private readonly consumers = new Map<string, { consumer: types.Consumer; participantId: string; tile: Tile; producerPaused: boolean }>();
  /** Per participant: the packet count last sampled and for how many samples it has not moved. */
  private readonly flow = new Map<string, { packets: number; still: number }>();
  private readonly iceTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Producer ids being or already consumed: a producer can arrive in a list and as an event. */
  private readonly consumed = new Set<string>();
  private readonly streams = new Map<string, MediaStream>();
  /** Producers announced while our transports were still being set up: consumed once they are. */
  private readonly early: ProducerView[] = [];
  private closed = false;

  constructor(
    private readonly socket: SignalSocket,
    private readonly events: CallEvents,
  ) {}

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
      stream.addTrack(consumer.track);
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

  /**
   * Called once a second: per remote participant, whether packets keep arriving. Muted media
   * is not a fault; media that stops for a few seconds means their connection (or ours) dropped.
   */
  async sampleFlow(): Promise<Map<string, FlowState>> {
    const packets = new Map<string, number>();
    const live = new Set<string>();
    for (const { consumer, participantId, producerPaused } of this.consumers.values()) {
      if (producerPaused || consumer.closed) continue;
      live.add(participantId);
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp') packets.set(participantId, (packets.get(participantId) ?? 0) + Number(s.packetsReceived ?? 0));
      });
    }
    const out = new Map<string, FlowState>();
    for (const { participantId } of this.consumers.values()) {
      if (!live.has(participantId)) {
        out.set(participantId, 'muted');
        this.flow.delete(participantId);
        continue;
      }
      const now = packets.get(participantId) ?? 0;
      const prev = this.flow.get(participantId);
      const still = prev && now <= prev.packets ? prev.still + 1 : 0;
      this.flow.set(participantId, { packets: now, still });
      out.set(participantId, still >= STALL_SAMPLES ? 'stalled' : 'flowing');
    }
    return out;
  }

  /** Another camera (front or back): the producer keeps going with the new track. */
  async replaceVideoTrack(track: MediaStreamTrack): Promise<void> {
    await this.producers.get('video')?.replaceTrack({ track });
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
    for (const t of [this.sendTransport, this.recvTransport]) if (t && !t.closed) void this.restartTransportIce(t);
  }

  /** For diagnostics and tests: what is being received, per participant. */
  async stats(): Promise<RemoteStats> {
    const out: RemoteStats = { paths: [], video: [], audio: [] };
    for (const t of [this.sendTransport, this.recvTransport]) {
      const path = t && !t.closed ? await this.pathOf(t) : undefined;
      if (path) out.paths.push(path);
    }
    for (const { consumer, participantId } of this.consumers.values()) {
      const report = await consumer.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          out.video.push({
            participantId, framesDecoded: Number(s.framesDecoded ?? 0), frameWidth: Number(s.frameWidth ?? 0),
            frameHeight: Number(s.frameHeight ?? 0), packetsLost: Number(s.packetsLost ?? 0),
          });
        } else if (s.kind === 'audio') {
          out.audio.push({ participantId, packetsReceived: Number(s.packetsReceived ?? 0), packetsLost: Number(s.packetsLost ?? 0) });
        }
      });
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.iceTimers.values()) clearTimeout(t);
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
      jobs.push(transport.produce({ track: audio, stopTracks: false, codecOptions: { opusDtx: true, opusFec: true } }).then((p) => {
        this.producers.set('audio', p);
      }));
    }
    if (video && this.device.canProduce('video')) {
      jobs.push(transport.produce({
        track: video,
        stopTracks: false,
        // Two layers keep a weak 4G receiver watchable without costing a desk PC much.
        encodings: [{ scaleResolutionDownBy: 2, maxBitrate: 200_000 }, { scaleResolutionDownBy: 1, maxBitrate: 900_000 }],
        codecOptions: { videoGoogleStartBitrate: 600 },
      }).then((p) => {
        this.producers.set('video', p);
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

  private async restartTransportIce(transport: types.Transport): Promise<void> {
    try {
      const { iceParameters } = await request(this.socket, 'restartIce', { transportId: transport.id });
      if (!transport.closed) await transport.restartIce({ iceParameters: iceParameters as unknown as types.IceParameters });
      mark(`${transport.direction}:ice-restart`);
    } catch {
      // The socket is down too: its reconnection rejoins and rebuilds the transports.
    }
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

  private async pathOf(transport: types.Transport): Promise<MediaPath | undefined> {
    const report = await transport.getStats();
    const all = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => all.set(s.id as string, s));
    const pair = [...all.values()].find((s) => s.type === 'candidate-pair' && (s.nominated === true || s.selected === true) && s.state === 'succeeded');
    const local = pair ? all.get(pair.localCandidateId as string) : undefined;
    if (!local) return undefined;
    return {
      direction: transport.direction, localType: String(local.candidateType),
      ...(local.relayProtocol ? { relayProtocol: String(local.relayProtocol) } : {}),
    };
  }

  private wireConnect(transport: types.Transport): void {
    transport.on('icecandidateerror', (e) => {
      mark(`${transport.direction}:ice-error:${e.errorCode}`);
      this.events.onRelayError?.(e.errorCode);
    });
    transport.on('connectionstatechange', (state) => {
      mark(`${transport.direction}:${state}`);
      clearTimeout(this.iceTimers.get(transport.id));
      // 'disconnected' often heals by itself (a brief loss); if not within 2 s, or on 'failed',
      // restart ICE: the transport and every producer and consumer on it are kept.
      if (state === 'failed') void this.restartTransportIce(transport);
      else if (state === 'disconnected') {
        this.iceTimers.set(transport.id, setTimeout(() => {
          if (transport.connectionState !== 'connected' && !transport.closed) void this.restartTransportIce(transport);
        }, 2000));
      }
    });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      request(this.socket, 'connectTransport', {
        transportId: transport.id, dtlsParameters: dtlsParameters as unknown as Record<string, unknown>,
      }).then(() => callback(), errback);
    });
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
