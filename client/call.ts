/**
 * The browser's side of the media: one mediasoup-client Device, a send transport carrying the
 * local camera and microphone, and a receive transport for everyone else. Remote tracks are
 * grouped per participant and handed to the page through `onRemoteStream`. Its helpers are in
 * call/: ICE recovery, the flow monitor and the diagnostics.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { JoinInfo, ProducerView, TransportOptions } from '../signalling/events.js';
import { type FlowState, FlowMonitor, type Received } from './call/flow.js';
import { IceRecovery } from './call/ice.js';
import { audioCodecOptions, keepFrameRate, videoCodecOptions, videoEncodings } from './call/encodings.js';
import { collectStats, type RemoteStats } from './call/stats.js';
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
  private readonly consumers = new Map<string, Received & { tile: Tile }>();
  private readonly flow = new FlowMonitor();
  private readonly ice: IceRecovery;
  /** Producer ids being or already consumed: a producer can arrive in a list and as an event. */
  private readonly consumed = new Set<string>();
  private readonly streams = new Map<string, MediaStream>();
  /** Producers announced while our transports were still being set up: consumed once they are. */
  private readonly early: ProducerView[] = [];
  private closed = false;

  constructor(
    private readonly socket: SignalSocket,
    private readonly events: CallEvents,
  ) {
    this.ice = new IceRecovery(socket, events.onRelayError);
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

  /** Called once a second: per remote participant, whether packets keep arriving (call/flow.ts). */
  sampleFlow(): Promise<Map<string, FlowState>> {
    return this.flow.sample(this.consumers.values());
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
    this.ice.restartAll([this.sendTransport, this.recvTransport]);
  }

  /** For diagnostics and tests: what is being received, per participant. */
  stats(): Promise<RemoteStats> {
    return collectStats([this.sendTransport, this.recvTransport], this.consumers.values());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ice.close();
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

  private streamOf(participantId: string): MediaStream {
    let s = this.streams.get(participantId);
    if (!s) {
      s = new MediaStream();
      this.streams.set(participantId, s);
    }
    return s;
  }
}
