/**
 * A cheap WebRTC peer in Node: @roamhq/wrtc provides RTCPeerConnection, and mediasoup-client runs
 * on it with its Chrome111 handler. One synthetic camera and one synthetic microphone feed every
 * peer of the process (each peer gets its own track, so each encodes on its own like a device).
 */
import wrtc from '@roamhq/wrtc';
import { Device, type types } from 'mediasoup-client';

let installed = false;
/** Puts wrtc's classes where mediasoup-client looks for the browser's. */
export function installWebRtcGlobals(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as Record<string, unknown>;
  for (const name of ['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate', 'MediaStream', 'MediaStreamTrack',
    'RTCRtpSender', 'RTCRtpReceiver', 'RTCRtpTransceiver', 'RTCDtlsTransport', 'RTCIceTransport'] as const) {
    g[name] = (wrtc as unknown as Record<string, unknown>)[name];
  }
}

export interface SyntheticSourceOptions {
  width: number;
  height: number;
  fps: number;
  /** Fraction (0-1) of the picture that changes from frame to frame. */
  activity: number;
}

/**
 * The synthetic camera and microphone: a still picture with a moving patch of noise (the encoder
 * has real work and the top layer reaches a few hundred kbit/s, like a person in front of a
 * webcam) and a 440 Hz tone. Frames are made once and cycled.
 */
export class SyntheticSources {
  private readonly video = new wrtc.nonstandard.RTCVideoSource();
  private readonly audio = new wrtc.nonstandard.RTCAudioSource();
  private readonly frames: Uint8Array[] = [];
  private videoTimer: NodeJS.Timeout | undefined;
  private audioTimer: NodeJS.Timeout | undefined;
  /** Frames delivered so far (a load generator falling behind delivers fewer than fps per second). */
  framesPushed = 0;

  constructor(private readonly opts: SyntheticSourceOptions) {
    const { width: w, height: h } = opts;
    const ySize = w * h;
    const frameCount = 2 * opts.fps;
    let seed = 12345;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed & 0xff;
    };
    // A still background (a speaker's room) and a moving patch of detail (the speaker) covering
    // `activity` of the picture: the encoder's work and the bitrate both follow that fraction.
    const boxW = Math.max(16, Math.round(w * Math.sqrt(opts.activity)));
    const boxH = Math.max(16, Math.round(h * Math.sqrt(opts.activity)));
    for (let f = 0; f < frameCount; f++) {
      const data = new Uint8Array(ySize * 1.5);
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = ((x * 255) / w + y / 4) & 0xff;
      data.fill(128, ySize);
      const bx = Math.round(((w - boxW) / 2) * (1 + Math.sin((2 * Math.PI * f) / frameCount)));
      const by = Math.round((h - boxH) / 2);
      for (let y = by; y < by + boxH; y++) for (let x = bx; x < bx + boxW; x++) data[y * w + x] = rand();
      this.frames.push(data);
    }
  }

  start(): void {
    if (this.videoTimer) return;
    const { width, height, fps } = this.opts;
    let f = 0;
    this.videoTimer = setInterval(() => {
      this.video.onFrame({ width, height, data: this.frames[f++ % this.frames.length] as Uint8Array });
      this.framesPushed++;
    }, 1000 / fps);
    // 10 ms of 48 kHz mono per onData call; catch up if the timer runs late.
    const samples = new Int16Array(480);
    let sent = 0;
    const t0 = performance.now();
    this.audioTimer = setInterval(() => {
      const due = Math.floor((performance.now() - t0) / 10);
      for (; sent < due; sent++) {
        for (let i = 0; i < 480; i++) samples[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * (sent * 480 + i)) / 48000));
        this.audio.onData({ samples, sampleRate: 48000, bitsPerSample: 16, channelCount: 1, numberOfFrames: 480 });
      }
    }, 10);
  }

  videoTrack(): MediaStreamTrack {
    return this.video.createTrack() as unknown as MediaStreamTrack;
  }

  audioTrack(): MediaStreamTrack {
    return this.audio.createTrack() as unknown as MediaStreamTrack;
  }

  stop(): void {
    clearInterval(this.videoTimer);
    clearInterval(this.audioTimer);
    this.videoTimer = undefined;
  }
}

/** The signalling a synthetic peer needs, implemented for ours and for the bare baseline. */
export interface PeerSignal {
  routerRtpCapabilities: types.RtpCapabilities;
  createTransport(direction: 'send' | 'recv'): Promise<types.TransportOptions>;
  connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void>;
  produce(transportId: string, kind: 'audio' | 'video', rtpParameters: types.RtpParameters): Promise<string>;
  consume(producerId: string, rtpCapabilities: types.RtpCapabilities): Promise<{ id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: types.RtpParameters }>;
  resume(consumerId: string): Promise<void>;
}

export interface MediaCounters {
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  framesDecoded: number;
  bytesReceived: number;
}

export function sumCounters(cs: MediaCounters[]): MediaCounters {
  const sum: MediaCounters = { packetsSent: 0, packetsReceived: 0, packetsLost: 0, framesDecoded: 0, bytesReceived: 0 };
  for (const c of cs) for (const k of Object.keys(sum) as (keyof MediaCounters)[]) sum[k] += c[k];
  return sum;
}

/** One participant's media: a send transport with camera and mic, a receive transport for the other. */
export class SyntheticMedia {
  private device: Device | undefined;
  private send: types.Transport | undefined;
  private recv: types.Transport | undefined;
  private readonly consumed = new Set<string>();
  readonly consumers: types.Consumer[] = [];
  private readonly tracks: MediaStreamTrack[] = [];

  constructor(private readonly signal: PeerSignal) {}

  async start(sources: SyntheticSources): Promise<void> {
    installWebRtcGlobals();
    this.device = new Device({ handlerName: 'Chrome111' });
    await this.device.load({ routerRtpCapabilities: this.signal.routerRtpCapabilities });
    const [s, r] = await Promise.all([this.signal.createTransport('send'), this.signal.createTransport('recv')]);
    this.send = this.device.createSendTransport(s);
    this.recv = this.device.createRecvTransport(r);
    for (const t of [this.send, this.recv]) {
      t.on('connect', ({ dtlsParameters }, cb, eb) => void this.signal.connectTransport(t.id, dtlsParameters).then(cb, eb));
    }
    const send = this.send;
    send.on('produce', ({ kind, rtpParameters }, cb, eb) => {
      void this.signal.produce(send.id, kind, rtpParameters).then((id) => cb({ id }), eb);
    });
    const audio = sources.audioTrack();
    const video = sources.videoTrack();
    this.tracks.push(audio, video);
    // The product's encodings and codec options (client/call.ts).
    await Promise.all([
      send.produce({ track: audio, codecOptions: { opusDtx: true, opusFec: true } }),
      send.produce({
        track: video,
        encodings: [{ scaleResolutionDownBy: 2, maxBitrate: 200_000 }, { scaleResolutionDownBy: 1, maxBitrate: 900_000 }],
        codecOptions: { videoGoogleStartBitrate: 600 },
      }),
    ]);
  }

  async consume(producerId: string): Promise<void> {
    if (!this.device || !this.recv || this.consumed.has(producerId)) return;
    this.consumed.add(producerId);
    const o = await this.signal.consume(producerId, this.device.rtpCapabilities);
    const consumer = await this.recv.consume(o);
    this.consumers.push(consumer);
    await this.signal.resume(consumer.id);
  }

  async counters(): Promise<MediaCounters> {
    const c: MediaCounters = { packetsSent: 0, packetsReceived: 0, packetsLost: 0, framesDecoded: 0, bytesReceived: 0 };
    if (this.send) {
      (await this.send.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'outbound-rtp') c.packetsSent += Number(s.packetsSent ?? 0);
      });
    }
    if (this.recv) {
      (await this.recv.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        c.packetsReceived += Number(s.packetsReceived ?? 0);
        c.packetsLost += Math.max(0, Number(s.packetsLost ?? 0));
        c.framesDecoded += Number(s.framesDecoded ?? 0);
        c.bytesReceived += Number(s.bytesReceived ?? 0);
      });
    }
    return c;
  }

  close(): void {
    this.send?.close();
    this.recv?.close();
    for (const t of this.tracks) t.stop();
  }
}
