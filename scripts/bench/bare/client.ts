/**
 * The bare baseline's browser page: camera and microphone with the product's constraints, a
 * self-view and a Join button; Join connects socket.io, loads a mediasoup-client Device, opens a
 * send and a receive transport, produces with the product's encodings and consumes the other
 * peer. Same timeline labels as the product's page (client/timeline.ts) so both are read alike.
 */
import { Device, type types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';

const timeline: [string, number][] = [];
const mark = (label: string) => timeline.push([label, Math.round(performance.now())]);
let state: 'check' | 'joining' | 'call' = 'check';
const consumers: types.Consumer[] = [];

declare global {
  interface Window {
    bare: { state: () => string; timeline: [string, number][]; stats: () => Promise<{ framesDecoded: number; audioPackets: number; frameWidth: number }> };
  }
}
window.bare = {
  state: () => state,
  timeline,
  async stats() {
    let framesDecoded = 0;
    let audioPackets = 0;
    let frameWidth = 0;
    for (const c of consumers) {
      (await c.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type !== 'inbound-rtp') return;
        if (s.kind === 'video') {
          framesDecoded += Number(s.framesDecoded ?? 0);
          frameWidth = Math.max(frameWidth, Number(s.frameWidth ?? 0));
        } else audioPackets += Number(s.packetsReceived ?? 0);
      });
    }
    return { framesDecoded, audioPackets, frameWidth };
  },
};

// The same constraints as client/local-media.ts.
const constraints: MediaStreamConstraints = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 20, max: 24 } },
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

type Ack<T> = { ok: true; data: T } | { ok: false; error: string };
async function request<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const res = (await socket.timeout(15_000).emitWithAck(event, payload)) as Ack<T>;
  if (!res.ok) throw new Error(res.error);
  return res.data;
}

async function main(): Promise<void> {
  mark('camera-asked');
  const local = await navigator.mediaDevices.getUserMedia(constraints);
  mark('camera');
  $<HTMLVideoElement>('check-video').srcObject = local;
  const button = $<HTMLButtonElement>('join-button');
  button.disabled = false;
  button.addEventListener('click', () => void join(local));
}

async function join(local: MediaStream): Promise<void> {
  if (state !== 'check') return;
  state = 'joining';
  const room = new URLSearchParams(location.search).get('room') ?? 'r';
  const socket = io();
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const info = await request<{ routerRtpCapabilities: types.RtpCapabilities; producers: { producerId: string }[] }>(socket, 'join', { room });
  const device = await Device.factory();
  await device.load({ routerRtpCapabilities: info.routerRtpCapabilities });
  type T = { id: string; iceParameters: types.IceParameters; iceCandidates: types.IceCandidate[]; dtlsParameters: types.DtlsParameters };
  const [s, r] = await Promise.all([
    request<T>(socket, 'createTransport', { direction: 'send' }),
    request<T>(socket, 'createTransport', { direction: 'recv' }),
  ]);
  const send = device.createSendTransport(s);
  const recv = device.createRecvTransport(r);
  for (const t of [send, recv]) {
    t.on('connectionstatechange', (st) => mark(`${t.direction}:${st}`));
    t.on('connect', ({ dtlsParameters }, cb, eb) => {
      request(socket, 'connectTransport', { transportId: t.id, dtlsParameters }).then(() => cb(), eb);
    });
  }
  send.on('produce', ({ kind, rtpParameters }, cb, eb) => {
    request<{ producerId: string }>(socket, 'produce', { transportId: send.id, kind, rtpParameters }).then(({ producerId }) => cb({ id: producerId }), eb);
  });

  const consumed = new Set<string>();
  const remote = new MediaStream();
  const consume = async (producerId: string) => {
    if (consumed.has(producerId)) return;
    consumed.add(producerId);
    const o = await request<{ id: string; producerId: string; kind: 'audio' | 'video'; rtpParameters: types.RtpParameters }>(
      socket, 'consume', { producerId, rtpCapabilities: device.rtpCapabilities },
    );
    const consumer = await recv.consume(o);
    consumers.push(consumer);
    mark(`consumer:${consumer.kind}`);
    remote.addTrack(consumer.track);
    let video = document.querySelector<HTMLVideoElement>('#remote');
    if (!video) {
      video = document.createElement('video');
      video.id = 'remote';
      video.autoplay = true;
      video.playsInline = true;
      video.requestVideoFrameCallback(() => mark('first-video-frame'));
      document.body.append(video);
    }
    if (video.srcObject !== remote) video.srcObject = remote;
    video.play().catch(() => undefined);
    await request(socket, 'resume', { id: consumer.id });
    mark(`resumed:${consumer.kind}`);
  };
  socket.on('newProducer', (p: { producerId: string; kind: string }) => {
    mark(`newProducer:${p.kind}`);
    void consume(p.producerId);
  });

  const audio = local.getAudioTracks()[0];
  const video = local.getVideoTracks()[0];
  // The same encodings, codec options and degradation preference as client/call/encodings.ts.
  await Promise.all([
    audio ? send.produce({ track: audio, codecOptions: { opusDtx: true, opusFec: true } }) : undefined,
    video
      ? send.produce({
        track: video,
        encodings: [{ scaleResolutionDownBy: 2, maxBitrate: 60_000, maxFramerate: 15 }, { scaleResolutionDownBy: 1, maxBitrate: 900_000 }],
        codecOptions: { videoGoogleStartBitrate: 600 },
      }).then(async (p) => {
        const params = p.rtpSender?.getParameters() as (RTCRtpSendParameters & { degradationPreference?: string }) | undefined;
        if (!params) return;
        params.degradationPreference = 'maintain-framerate';
        await p.rtpSender?.setParameters(params).catch(() => undefined);
      })
      : undefined,
  ]);
  mark('produced');
  state = 'call';
  await Promise.all(info.producers.map((p) => consume(p.producerId)));
}

void main();
