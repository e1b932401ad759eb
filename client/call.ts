/**
 * The browser's side of the media: one mediasoup-client Device, a send transport carrying the
 * local camera and microphone, and a receive transport for everyone else. Remote tracks are
 * grouped per participant and handed to the page through `onRemoteStream`.
 */
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { IceServer, JoinInfo, ProducerView, TransportOptions } from '../signalling/events.js';
import { request, type SignalSocket } from './signal.js';
import { mark } from './timeline.js';

export interface RemoteStats {
  video: { participantId: string; framesDecoded: number; frameWidth: number; frameHeight: number; packetsLost: number }[];
  audio: { participantId: string; packetsReceived: number; packetsLost: number }[];
}

interface CallEvents {
  onRemoteStream: (participantId: string, stream: MediaStream) => void;
  onRemoteTrackEnded: (participantId: string, stream: MediaStream) => void;
}

export class Call {
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<'audio' | 'video', types.Producer>();
  private readonly consumers = new Map<string, { consumer: types.Consumer; participantId: string }>();
  /** Producer ids being or already consumed: a producer can arrive in a list and as an event. */
  private readonly consumed = new Set<string>();
  private readonly streams = new Map<string, MediaStream>();
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
    this.sendTransport = this.device.createSendTransport(this.transportOptions(send, info.iceServers));
    this.recvTransport = this.device.createRecvTransport(this.transportOptions(recv, info.iceServers));
    this.wireConnect(this.sendTransport);
    this.wireConnect(this.recvTransport);
    this.sendTransport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source === 'screen' ? 'screen' : kind === 'audio' ? 'mic' : 'camera';
      request(this.socket, 'produce', {
        transportId: this.sendTransport?.id ?? '', kind, rtpParameters: rtpParameters as unknown as Record<string, unknown>, source,
      }).then(({ producerId }) => callback({ id: producerId }), errback);
    });
    if (local) await this.produce(local);
  }

  async consumeAll(producers: ProducerView[]): Promise<void> {
    await Promise.all(producers.map((p) => this.consume(p)));
  }

  async consume(p: ProducerView): Promise<void> {
    if (this.closed || !this.device || !this.recvTransport || this.consumed.has(p.producerId)) return;
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
      this.consumers.set(consumer.id, { consumer, participantId: p.participantId });
      mark(`consumer:${consumer.kind}`);
      const stream = this.streamOf(p.participantId);
      stream.addTrack(consumer.track);
      this.events.onRemoteStream(p.participantId, stream);
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
    for (const [id, { consumer, participantId }] of this.consumers) {
      if (consumer.producerId !== producerId) continue;
      consumer.close();
      this.consumers.delete(id);
      const stream = this.streams.get(participantId);
      if (stream) {
        stream.removeTrack(consumer.track);
        this.events.onRemoteTrackEnded(participantId, stream);
      }
    }
  }

  /** Forget everything received from one participant (they left or dropped). */
  forget(participantId: string): void {
    for (const [, { consumer, participantId: owner }] of this.consumers) {
      if (owner === participantId) this.producerClosed(consumer.producerId);
    }
    this.streams.delete(participantId);
  }

  setMicEnabled(enabled: boolean): void {
    const p = this.producers.get('audio');
    if (!p) return;
    if (enabled) p.resume();
    else p.pause();
  }

  setCameraEnabled(enabled: boolean): void {
    const p = this.producers.get('video');
    if (!p) return;
    if (enabled) p.resume();
    else p.pause();
  }

  /** For diagnostics and tests: what is being received, per participant. */
  async stats(): Promise<RemoteStats> {
    const out: RemoteStats = { video: [], audio: [] };
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

  private transportOptions(t: TransportOptions, iceServers: IceServer[]): types.TransportOptions {
    return {
      id: t.id,
      iceParameters: t.iceParameters as unknown as types.IceParameters,
      iceCandidates: t.iceCandidates as unknown as types.IceCandidate[],
      dtlsParameters: t.dtlsParameters as unknown as types.DtlsParameters,
      iceServers,
    };
  }

  private wireConnect(transport: types.Transport): void {
    transport.on('connectionstatechange', (state) => mark(`${transport.direction}:${state}`));
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
