/**
 * The replay peer: a synthetic participant with no encoder and no decoder, so one load generator
 * can carry 20-40 calls on 2 cores. It still goes through a real WebRTC transport of the SFU:
 * werift (a WebRTC stack in TypeScript) does ICE (controlling, against mediasoup's ICE-lite),
 * DTLS (client) and SRTP; the RTP is written here.
 *
 * Sending: Opus-sized packets (20 ms, 50/s) and VP8 in two simulcast layers, each on its own SSRC
 * (`encodings: [{ ssrc }, { ssrc }]`, L1T3 like libwebrtc's VP8 simulcast), at the rates of
 * REPLAY_PROFILE. Each packet has a correct VP8 payload descriptor (picture id, TL0PICIDX, TID),
 * frames start with a key frame and a key frame follows every PLI or FIR; the payload after the
 * descriptor is filler, since nobody decodes it. Packets carry the transport-wide-cc sequence
 * number (and audio the audio level) like a browser's, and each stream sends a sender report every
 * second.
 *
 * Receiving: packets are counted per consumer from the clear-text RTP header (SSRC, sequence
 * number, marker bit), without decrypting; `framesDecoded` counts video frames received (packets
 * with the marker bit). The receiver sends no RTCP and its capabilities offer neither
 * transport-cc nor REMB, so mediasoup runs no bandwidth estimation toward it and forwards the
 * highest simulcast layer; there is no NACK or RTX traffic either way (loopback loses nothing in
 * practice, and a lost packet is counted as lost).
 */
import {
  IceCandidate, PictureLossIndication, ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsFingerprint, RTCDtlsParameters, RTCDtlsTransport, RTCIceGatherer, RTCIceParameters, RTCIceTransport,
  RtcpSenderInfo, RtcpSrPacket, RtpHeader,
} from 'werift';
import type { types } from 'mediasoup-client';
import type { MediaCounters, PeerSignal } from './media.js';

export interface ReplayProfile {
  fps: number;
  /** Simulcast layers, lowest first: average bitrate of the VP8 payload. */
  layers: { kbps: number; scaleResolutionDownBy: number; maxBitrate: number }[];
  /** A key frame is this many times a delta frame. */
  keyFrameFactor: number;
  /** Largest VP8 payload per packet (bytes). */
  maxPayload: number;
  /** Opus payload bytes per 20 ms packet. */
  opusBytes: number;
}

/**
 * Matched to what the wrtc peers (synthetic/media.ts: 480x270 at 15 fps, the product's encodings)
 * send and receive once bandwidth estimation has settled, measured with `--peers=wrtc`: per call
 * about 320 packets/s sent, 284 received and 1.6 Mbit/s of payload received, i.e. per peer a
 * top layer of ~6 packets per frame (~760 kbit/s), a low layer of ~1 packet per frame and Opus.
 */
export const REPLAY_PROFILE: ReplayProfile = {
  fps: 15,
  layers: [{ kbps: 130, scaleResolutionDownBy: 2, maxBitrate: 200_000 }, { kbps: 760, scaleResolutionDownBy: 1, maxBitrate: 900_000 }],
  keyFrameFactor: 5,
  maxPayload: 1100,
  opusBytes: 70,
};

const TCC_URI = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
type PeerConfig = ConstructorParameters<typeof RTCDtlsTransport>[0];

// --- the clock: one timer for every sender of the process ---------------------------------------

interface Ticking { tick(now: number): void }

/** Drives every sender from one 5 ms timer; also a virtual camera whose frame rate falls when the event loop lags. */
class ReplayClock {
  private readonly senders = new Set<Ticking>();
  private timer: NodeJS.Timeout | undefined;
  private nextSlot = 0;
  /** Frame slots (at REPLAY_PROFILE.fps) served less than one frame interval late. */
  frames = 0;

  add(s: Ticking): void {
    this.senders.add(s);
  }

  delete(s: Ticking): void {
    this.senders.delete(s);
  }

  start(): void {
    if (this.timer) return;
    const interval = 1000 / REPLAY_PROFILE.fps;
    this.nextSlot = performance.now() + interval;
    this.timer = setInterval(() => {
      const now = performance.now();
      for (const s of this.senders) s.tick(now);
      while (now >= this.nextSlot) {
        if (now - this.nextSlot <= interval) this.frames++;
        this.nextSlot += interval;
      }
    }, 5);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

export const replayClock = new ReplayClock();

// --- transports --------------------------------------------------------------------------------

const randomU32 = () => (Math.random() * 0xffffffff) >>> 0;
const randomU16 = () => (Math.random() * 0xffff) >>> 0;

/** werift's ICE socket: its datagram handler and where it hands on what is not STUN. */
interface StunSocket {
  localCandidate?: unknown;
  transport: { onData: (data: Buffer, addr: unknown) => void };
  onDataReceived: { execute: (data: Buffer) => void };
}

/**
 * werift 0.23 tries every datagram as STUN first and takes it for STUN when its length is 20 plus
 * bytes 2-3, which for RTP is the sequence number: one RTP packet in 65,536 per stream vanishes,
 * and many more in a consumer's first ~1,200 packets (mediasoup starts consumers' sequence numbers
 * near 0, where they meet packet lengths), which showed as 0.07% loss. RTP and RTCP (first byte
 * 128-191, RFC 7983) go straight to the media path instead.
 */
function bypassStunParser(ice: RTCIceTransport): void {
  for (const p of (ice.connection as unknown as { protocols: StunSocket[] }).protocols) {
    const parse = p.transport.onData;
    p.transport.onData = (data, addr) => {
      const b0 = data[0] ?? 0;
      if (b0 >= 128 && b0 < 192) {
        if (p.localCandidate) p.onDataReceived.execute(data);
      } else {
        parse(data, addr);
      }
    };
  }
}

/** One mediasoup WebRtcTransport seen from werift: ICE controlling, DTLS client, SRTP. */
class Wire {
  private constructor(readonly id: string, readonly ice: RTCIceTransport, readonly dtls: RTCDtlsTransport) {}

  /** Creates the server's transport, then connects ICE and DTLS to it. */
  static async open(signal: PeerSignal, direction: 'send' | 'recv', onRawRtp?: (buf: Buffer) => void): Promise<Wire> {
    const o = await signal.createTransport(direction);
    const cert = await RTCDtlsTransport.SetupCertificate();
    // mediasoup 3.13 names the address `ip`; mediasoup-client's type calls it `address`.
    const remote = o.iceCandidates.filter((c) => c.protocol === 'udp').map((c) => ({ ...c, address: c.address ?? c.ip }));
    if (remote.length === 0) throw new Error('the server offered no UDP candidate');
    const loopback = remote.every((c) => c.address.startsWith('127.'));
    const gatherer = new RTCIceGatherer({
      useIpv4: true,
      useIpv6: false,
      ...(loopback ? { additionalHostAddresses: ['127.0.0.1'], interfaceAddresses: { udp4: '127.0.0.1' } } : {}),
    });
    // werift's ICE asks stun.l.google.com for a server-reflexive candidate unless told otherwise:
    // no STUN server (the SFU is local; nothing leaves the machine).
    gatherer.connection.stunServer = undefined;
    const ice = new RTCIceTransport(gatherer);
    const dtls = new RTCDtlsTransport({ debug: {} } as PeerConfig, ice, cert, [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80]);
    const wire = new Wire(o.id, ice, dtls);
    try {
      await ice.gather();
      bypassStunParser(ice);
      ice.connection.iceControlling = true;
      ice.setRemoteParams(new RTCIceParameters({ iceLite: true, usernameFragment: o.iceParameters.usernameFragment, password: o.iceParameters.password }));
      for (const c of remote) await ice.addRemoteCandidate(new IceCandidate(1, c.foundation, c.address, c.port, c.priority, 'udp', c.type));
      await ice.addRemoteCandidate(undefined);
      dtls.role = 'client';
      dtls.setRemoteParams(new RTCDtlsParameters(o.dtlsParameters.fingerprints.map((f) => new RTCDtlsFingerprint(f.algorithm, f.value)), 'server'));
      if (onRawRtp) {
        // Receive only: count from the clear-text header instead of decrypting (SRTCP from the
        // server, sender reports, is dropped the same way).
        dtls.startSrtp = () => undefined;
        ice.connection.onData.subscribe((buf: Buffer) => {
          const b0 = buf[0] ?? 0;
          const b1 = buf[1] ?? 0;
          if (b0 >= 128 && b0 < 192 && !(b1 >= 192 && b1 <= 223)) onRawRtp(buf);
        });
      }
      await signal.connectTransport(o.id, { role: 'client', fingerprints: cert.getFingerprints().map((f) => ({ algorithm: f.algorithm as types.FingerprintAlgorithm, value: f.value })) });
      await ice.start();
      await dtls.start();
    } catch (err) {
      wire.close();
      throw err;
    }
    return wire;
  }

  send(header: RtpHeader, payload: Buffer): void {
    const enc = this.dtls.srtp.encrypt(payload, header);
    void this.ice.connection.send(enc).catch(() => undefined);
  }

  close(): void {
    void this.dtls.stop().catch(() => undefined);
  }
}

// --- sending -----------------------------------------------------------------------------------

interface Stream {
  ssrc: number;
  payloadType: number;
  clockRate: number;
  seq: number;
  ts: number;
  /** performance.now() when `ts` was current. */
  tsAt: number;
  packets: number;
  octets: number;
}

function newStream(payloadType: number, clockRate: number): Stream {
  return { ssrc: randomU32(), payloadType, clockRate, seq: randomU16(), ts: randomU32(), tsAt: performance.now(), packets: 0, octets: 0 };
}

interface Layer extends Stream {
  bytesPerFrame: number;
  pictureId: number;
  tl0: number;
  frame: number;
  keyFrameWanted: boolean;
}

// libwebrtc's L1T3 pattern: TID per frame.
const T3 = [0, 2, 1, 2] as const;
const FILLER = Buffer.alloc(2000, 0x5a);

class Sender implements Ticking {
  private readonly audio: Stream;
  private readonly layers: Layer[];
  private tcc = randomU16();
  private nextAudio: number;
  private nextVideo: number;
  private nextReport: number;
  private readonly audioPayload: Buffer;
  private readonly tccId: number;
  private readonly audioLevelId: number;
  /** Packets sent, all streams. */
  packetsSent = 0;

  constructor(private readonly wire: Wire, caps: types.RtpCapabilities, private readonly profile: ReplayProfile) {
    const pt = (mime: string) => {
      const c = caps.codecs?.find((x) => x.mimeType.toLowerCase() === mime);
      if (c?.preferredPayloadType === undefined) throw new Error(`router has no ${mime}`);
      return c.preferredPayloadType;
    };
    const ext = (uri: string, kind: 'audio' | 'video') => caps.headerExtensions?.find((h) => h.uri === uri && h.kind === kind)?.preferredId ?? 0;
    this.tccId = ext(TCC_URI, 'video');
    this.audioLevelId = ext(AUDIO_LEVEL_URI, 'audio');
    this.audio = newStream(pt('audio/opus'), 48000);
    const vp8 = pt('video/vp8');
    this.layers = profile.layers.map((l) => ({
      ...newStream(vp8, 90000), bytesPerFrame: (l.kbps * 1000) / 8 / profile.fps, pictureId: randomU16() & 0x7fff, tl0: randomU16() & 0xff, frame: 0, keyFrameWanted: true,
    }));
    // Opus TOC: config 15 (hybrid, fullband, 20 ms), mono, one frame; then filler.
    this.audioPayload = Buffer.alloc(profile.opusBytes, 0x33);
    this.audioPayload[0] = 0x78;
    // Peers are not in step with each other: a random phase for each.
    const now = performance.now();
    this.nextAudio = now + Math.random() * 20;
    this.nextVideo = now + Math.random() * (1000 / profile.fps);
    this.nextReport = now + 1000;
    wire.dtls.onRtcp.subscribe((p) => {
      if (p.type !== 206) return;
      const fb = p.feedback as unknown as { mediaSsrc?: number; fir?: { ssrc: number }[] };
      const ssrcs = fb instanceof PictureLossIndication ? [fb.mediaSsrc] : (fb.fir ?? []).map((e) => e.ssrc);
      for (const l of this.layers) if (ssrcs.includes(l.ssrc)) l.keyFrameWanted = true;
    });
  }

  audioParameters(): types.RtpParameters {
    return {
      mid: '0',
      codecs: [{
        mimeType: 'audio/opus', payloadType: this.audio.payloadType, clockRate: 48000, channels: 2,
        parameters: { minptime: 10, useinbandfec: 1, usedtx: 1 }, rtcpFeedback: [{ type: 'transport-cc' }],
      }],
      headerExtensions: [
        { uri: AUDIO_LEVEL_URI, id: this.audioLevelId, encrypt: false, parameters: {} },
        { uri: TCC_URI, id: this.tccId, encrypt: false, parameters: {} },
      ].filter((h) => h.id > 0) as types.RtpHeaderExtensionParameters[],
      encodings: [{ ssrc: this.audio.ssrc, dtx: true }],
      rtcp: { cname: `replay-${this.audio.ssrc}`, reducedSize: true },
    };
  }

  videoParameters(): types.RtpParameters {
    return {
      mid: '1',
      codecs: [{
        mimeType: 'video/VP8', payloadType: this.layers[0]?.payloadType ?? 0, clockRate: 90000, parameters: {},
        rtcpFeedback: [{ type: 'transport-cc' }, { type: 'ccm', parameter: 'fir' }, { type: 'nack' }, { type: 'nack', parameter: 'pli' }],
      }],
      headerExtensions: [{ uri: TCC_URI, id: this.tccId, encrypt: false, parameters: {} }].filter((h) => h.id > 0) as types.RtpHeaderExtensionParameters[],
      encodings: this.layers.map((l, i) => ({
        ssrc: l.ssrc, scalabilityMode: 'L1T3', maxBitrate: this.profile.layers[i]?.maxBitrate, scaleResolutionDownBy: this.profile.layers[i]?.scaleResolutionDownBy,
      })),
      rtcp: { cname: `replay-${this.audio.ssrc}`, reducedSize: true },
    };
  }

  private extensions(audioLevel: boolean): { id: number; payload: Buffer }[] {
    const out: { id: number; payload: Buffer }[] = [];
    if (this.tccId) {
      this.tcc = (this.tcc + 1) & 0xffff;
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16BE(this.tcc);
      out.push({ id: this.tccId, payload: b });
    }
    // Voice activity, -30 dBov.
    if (audioLevel && this.audioLevelId) out.push({ id: this.audioLevelId, payload: Buffer.from([0x80 | 30]) });
    return out;
  }

  private sendPacket(s: Stream, marker: boolean, payload: Buffer, audio: boolean): void {
    const extensions = this.extensions(audio);
    const header = new RtpHeader({
      payloadType: s.payloadType, sequenceNumber: s.seq, timestamp: s.ts, ssrc: s.ssrc, marker,
      extension: extensions.length > 0, extensionProfile: 0xbede, extensions,
    });
    s.seq = (s.seq + 1) & 0xffff;
    s.packets++;
    s.octets += payload.length;
    this.packetsSent++;
    this.wire.send(header, payload);
  }

  private sendFrame(l: Layer): void {
    const key = l.keyFrameWanted || l.frame === 0;
    l.keyFrameWanted = false;
    const tid = key ? 0 : (T3[l.frame % 4] ?? 0);
    // Layer sync (Y): the frame references only TL0 (every frame of the pattern but the last).
    const sync = key || l.frame % 4 !== 3;
    if (key) l.frame = 0;
    if (tid === 0) l.tl0 = (l.tl0 + 1) & 0xff;
    // ±20% around the layer's average; key frames several times bigger.
    const size = Math.max(40, Math.round(l.bytesPerFrame * (key ? this.profile.keyFrameFactor : 0.8 + 0.4 * Math.random())));
    const count = Math.ceil(size / this.profile.maxPayload);
    const per = Math.ceil(size / count);
    for (let i = 0; i < count; i++) {
      // VP8 payload descriptor (RFC 7741): X, S on the first packet, PID 0; I (15-bit picture
      // id), L (TL0PICIDX), T (TID; Y when the frame depends on TL0 only, which mediasoup needs to switch up a temporal layer).
      const d = Buffer.allocUnsafe(6 + per);
      d[0] = 0x80 | (i === 0 ? 0x10 : 0);
      d[1] = 0xe0;
      d[2] = 0x80 | (l.pictureId >> 8);
      d[3] = l.pictureId & 0xff;
      d[4] = l.tl0;
      d[5] = (tid << 6) | (sync ? 0x20 : 0);
      FILLER.copy(d, 6, 0, per);
      if (i === 0) {
        // VP8 frame tag: bit 0 is 0 for a key frame; a key frame's start code and size follow.
        d[6] = key ? 0x10 : 0x11;
        if (key) {
          d.set([0x9d, 0x01, 0x2a], 9);
          d.writeUInt16LE(480, 12);
          d.writeUInt16LE(270, 14);
        }
      }
      this.sendPacket(l, i === count - 1, d, false);
    }
    l.pictureId = (l.pictureId + 1) & 0x7fff;
    l.frame++;
    l.ts = (l.ts + 90000 / this.profile.fps) >>> 0;
    l.tsAt = performance.now();
  }

  private report(now: number): void {
    const ntp = BigInt(Math.round((Date.now() / 1000 + 2_208_988_800) * 2 ** 32));
    const packets = [this.audio, ...this.layers].map((s) => new RtcpSrPacket({
      ssrc: s.ssrc,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: ntp, rtpTimestamp: (s.ts + Math.round(((now - s.tsAt) * s.clockRate) / 1000)) >>> 0, packetCount: s.packets, octetCount: s.octets >>> 0,
      }),
    }));
    void this.wire.dtls.sendRtcp(packets).catch(() => undefined);
  }

  tick(now: number): void {
    // A sender more than two periods behind skips ahead instead of bursting.
    const audioPeriod = 20;
    if (now - this.nextAudio > 2 * audioPeriod) this.nextAudio = now;
    while (now >= this.nextAudio) {
      this.sendPacket(this.audio, false, this.audioPayload, true);
      this.audio.ts = (this.audio.ts + 960) >>> 0;
      this.audio.tsAt = now;
      this.nextAudio += audioPeriod;
    }
    const videoPeriod = 1000 / this.profile.fps;
    if (now - this.nextVideo > 2 * videoPeriod) this.nextVideo = now;
    while (now >= this.nextVideo) {
      for (const l of this.layers) this.sendFrame(l);
      this.nextVideo += videoPeriod;
    }
    if (now >= this.nextReport) {
      this.report(now);
      this.nextReport = now + 1000;
    }
  }
}

// --- receiving ---------------------------------------------------------------------------------

interface Inbound {
  video: boolean;
  received: number;
  bytes: number;
  frames: number;
  base: number;
  /** Highest sequence number, extended with wrap-arounds. */
  max: number;
}

/** The router's capabilities as a receiver without bandwidth estimation offers them. */
export function replayReceiveCapabilities(caps: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: (caps.codecs ?? []).map((c) => ({ ...c, rtcpFeedback: (c.rtcpFeedback ?? []).filter((f) => f.type !== 'transport-cc' && f.type !== 'goog-remb') })),
    headerExtensions: (caps.headerExtensions ?? []).filter((h) => h.uri !== TCC_URI && !h.uri.endsWith('abs-send-time')),
  };
}

/** One participant's media, like SyntheticMedia but replayed: see the top of this file. */
export class ReplayMedia {
  private send: Wire | undefined;
  private recv: Wire | undefined;
  private sender: Sender | undefined;
  private readonly consumed = new Set<string>();
  private readonly inbound = new Map<number, Inbound>();
  private tagLength = 16;
  private closed = false;
  /** Consumers created and resumed. */
  consuming = 0;

  constructor(private readonly signal: PeerSignal, private readonly profile: ReplayProfile = REPLAY_PROFILE) {}

  async start(): Promise<void> {
    replayClock.start();
    const [send, recv] = await Promise.all([Wire.open(this.signal, 'send'), Wire.open(this.signal, 'recv', (b) => this.onRtp(b))]);
    this.send = send;
    this.recv = recv;
    if (this.closed) return this.close();
    // AES-GCM has a 16-byte tag, AES-CM-HMAC-SHA1-80 a 10-byte one (counted out of bytesReceived).
    this.tagLength = recv.dtls.dtls?.srtp.srtpProfile === ProtectionProfileAes128CmHmacSha1_80 ? 10 : 16;
    const sender = new Sender(send, this.signal.routerRtpCapabilities, this.profile);
    this.sender = sender;
    const audio = sender.audioParameters();
    const video = sender.videoParameters();
    await Promise.all([this.signal.produce(send.id, 'audio', audio), this.signal.produce(send.id, 'video', video)]);
    if (!this.closed) replayClock.add(sender);
  }

  async consume(producerId: string): Promise<void> {
    if (!this.recv || this.consumed.has(producerId)) return;
    this.consumed.add(producerId);
    const o = await this.signal.consume(producerId, replayReceiveCapabilities(this.signal.routerRtpCapabilities));
    for (const e of o.rtpParameters.encodings ?? []) {
      if (e.ssrc !== undefined) this.inbound.set(e.ssrc, { video: o.kind === 'video', received: 0, bytes: 0, frames: 0, base: -1, max: -1 });
    }
    await this.signal.resume(o.id);
    this.consuming++;
  }

  private onRtp(buf: Buffer): void {
    if (buf.length < 12) return;
    const s = this.inbound.get(buf.readUInt32BE(8));
    if (!s) return;
    const seq = buf.readUInt16BE(2);
    if (s.base < 0) {
      s.base = seq;
      s.max = seq;
    } else {
      // Extend the sequence number to the one nearest the highest seen.
      let ext = (s.max & ~0xffff) | seq;
      if (ext < s.max - 0x8000) ext += 0x10000;
      else if (ext > s.max + 0x8000) ext -= 0x10000;
      if (ext > s.max) s.max = ext;
    }
    s.received++;
    const b0 = buf[0] ?? 0;
    let header = 12 + 4 * (b0 & 0x0f);
    if (b0 & 0x10 && buf.length >= header + 4) header += 4 + 4 * buf.readUInt16BE(header + 2);
    s.bytes += Math.max(0, buf.length - header - this.tagLength);
    if (s.video && ((buf[1] ?? 0) & 0x80)) s.frames++;
  }

  counters(): Promise<MediaCounters> {
    const c: MediaCounters = { packetsSent: this.sender?.packetsSent ?? 0, packetsReceived: 0, packetsLost: 0, framesDecoded: 0, bytesReceived: 0 };
    for (const s of this.inbound.values()) {
      c.packetsReceived += s.received;
      if (s.base >= 0) c.packetsLost += Math.max(0, s.max - s.base + 1 - s.received);
      c.framesDecoded += s.frames;
      c.bytesReceived += s.bytes;
    }
    return Promise.resolve(c);
  }

  close(): void {
    this.closed = true;
    if (this.sender) replayClock.delete(this.sender);
    this.send?.close();
    this.recv?.close();
  }
}
