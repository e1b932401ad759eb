/**
 * Two-party calls made of synthetic peers, through our signalling (links, sessions, waiting room,
 * admission) or through the bare baseline's. A call is up when each side consumes the other's
 * camera and microphone. The flows are the same whatever the peers' media: `wrtcPeers` (real
 * encoders on @roamhq/wrtc) or `replayPeers` (replayed RTP on werift, no codecs).
 */
import type { types } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import { type MediaCounters, type PeerSignal, SyntheticMedia, type SyntheticSources, sumCounters } from './media.js';
import { ReplayMedia } from './replay.js';

type Ack<T> = { ok: true; data: T } | { ok: false; error: unknown };

async function request<T>(socket: Socket, event: string, payload: unknown): Promise<T> {
  const res = (await socket.timeout(20_000).emitWithAck(event, payload)) as Ack<T>;
  if (!res.ok) throw new Error(`${event}: ${JSON.stringify(res.error)}`);
  return res.data;
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => reject(err));
  });
}

/** One participant's media, whichever kind of synthetic peer makes it. */
export interface PeerMedia {
  start(): Promise<void>;
  consume(producerId: string): Promise<void>;
  /** Consumers created so far. */
  readonly consuming: number;
  counters(): Promise<MediaCounters>;
  close(): void;
}

/** The synthetic peers a load generator can make: see wrtcPeers and replayPeers. */
export type PeerKind = 'wrtc' | 'replay';

/** Makes one participant's media on top of its signalling. */
export type PeerMediaFactory = (signal: PeerSignal) => PeerMedia;

/** mediasoup-client on @roamhq/wrtc, encoding the shared synthetic camera and microphone (media.ts). */
export function wrtcPeers(sources: SyntheticSources): PeerMediaFactory {
  return (signal) => {
    const m = new SyntheticMedia(signal);
    return {
      start: () => m.start(sources),
      consume: (id) => m.consume(id),
      get consuming() {
        return m.consumers.length;
      },
      counters: () => m.counters(),
      close: () => m.close(),
    };
  };
}

/** werift transports sending replayed RTP, no codecs (replay.ts). */
export const replayPeers: PeerMediaFactory = (signal) => new ReplayMedia(signal);

export interface Call {
  counters(): Promise<MediaCounters>;
  close(): Promise<void>;
}

async function bothConsuming(medias: PeerMedia[], timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (medias.some((m) => m.consuming < 2)) {
    if (Date.now() > until) throw new Error('call did not come up: a side is not consuming both tracks');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A peer's signalling over a socket. The two stacks differ only in what `produce` also says
 * (ours: which source) and in the name of the resume event.
 */
function socketSignal(
  socket: Socket, caps: types.RtpCapabilities,
  protocol: { produceExtra: (kind: string) => Record<string, unknown>; resumeEvent: string },
): PeerSignal {
  return {
    routerRtpCapabilities: caps,
    createTransport: (direction) => request(socket, 'createTransport', { direction }),
    connectTransport: async (transportId, dtlsParameters) => {
      await request(socket, 'connectTransport', { transportId, dtlsParameters });
    },
    produce: async (transportId, kind, rtpParameters) =>
      (await request<{ producerId: string }>(socket, 'produce', { transportId, kind, rtpParameters, ...protocol.produceExtra(kind) })).producerId,
    consume: (producerId, rtpCapabilities) => request(socket, 'consume', { producerId, rtpCapabilities }),
    resume: async (id) => {
      await request(socket, protocol.resumeEvent, { id });
    },
  };
}

const oursProtocol = { produceExtra: (kind: string) => ({ source: kind === 'audio' ? 'mic' : 'camera' }), resumeEvent: 'resumeConsumer' };
const bareProtocol = { produceExtra: () => ({}), resumeEvent: 'resume' };

/**
 * Sets a call up with `setUp` (which records its sockets and peers as it goes), waits until both
 * sides consume both tracks, and hangs everything up again if that fails.
 */
async function twoPartyCall(setUp: (sockets: Socket[], medias: PeerMedia[]) => Promise<void>): Promise<Call> {
  const sockets: Socket[] = [];
  const medias: PeerMedia[] = [];
  const close = async () => {
    for (const m of medias) m.close();
    for (const s of sockets) s.disconnect();
  };
  try {
    await setUp(sockets, medias);
    await bothConsuming(medias);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    async counters() {
      return sumCounters(await Promise.all(medias.map((m) => m.counters())));
    },
    close,
  };
}

// --- ours ---------------------------------------------------------------------------------

/** Redeems a link like the page does and returns the session cookie and who we are. */
export async function redeemLink(link: string): Promise<{ base: string; cookie: string; consultationId: string; participantId: string }> {
  const u = new URL(link);
  const code = u.pathname.slice(u.pathname.lastIndexOf('/') + 1);
  const res = await fetch(`${u.origin}/api/v1/links/${code}/redeem`, { method: 'POST', headers: { accept: 'application/json' } });
  const body = (await res.json()) as { consultationId: string; participantId: string };
  if (res.status !== 200) throw new Error(`redeem: ${res.status} ${JSON.stringify(body)}`);
  const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).find((c) => c?.startsWith('oc_s_'));
  if (!cookie) throw new Error('redeem set no session cookie');
  return { base: u.origin, cookie, consultationId: body.consultationId, participantId: body.participantId };
}

export { request };

export function oursSocket(s: { base: string; cookie: string; consultationId: string }): Socket {
  return io(s.base, { auth: { consultationId: s.consultationId }, extraHeaders: { cookie: s.cookie }, reconnection: false, forceNew: true });
}

/**
 * Joins on a connected socket of ours and starts the peer's media: it consumes what the join
 * offers (a rejoin into a call in progress), what admission brings and every new producer.
 */
export async function oursJoin(socket: Socket, peers: PeerMediaFactory, made: (m: PeerMedia) => void = () => undefined): Promise<PeerMedia> {
  // Listening before `join` is sent, as the page does: a producer announced right behind the
  // join's answer would otherwise arrive before anyone listens, and never be consumed.
  let media: PeerMedia | undefined;
  const waiting: { producerId: string }[] = [];
  // A producer can be offered twice (in the join's list and as new): consume it once.
  const seen = new Set<string>();
  const consume = (ps: { producerId: string }[]) => {
    if (!media) return void waiting.push(...ps);
    for (const p of ps) {
      if (seen.has(p.producerId)) continue;
      seen.add(p.producerId);
      void media.consume(p.producerId).catch(() => undefined);
    }
  };
  socket.on('newProducer', (p: { producerId: string }) => consume([p]));
  socket.on('admitted', (a: { producers: { producerId: string }[] }) => consume(a.producers));
  const info = await request<{ routerRtpCapabilities: types.RtpCapabilities; producers: { producerId: string }[] }>(socket, 'join', {});
  const m = peers(socketSignal(socket, info.routerRtpCapabilities, oursProtocol));
  made(m);
  await m.start();
  media = m;
  consume([...waiting.splice(0), ...(info.producers ?? [])]);
  return m;
}

/** Patient joins and waits (media prepared), clinician joins and admits; both consume. */
export function oursCall(links: { patientUrl: string; clinicianUrl: string }, peers: PeerMediaFactory): Promise<Call> {
  return twoPartyCall(async (sockets, medias) => {
    const join = async (link: string) => {
      const session = await redeemLink(link);
      const socket = oursSocket(session);
      sockets.push(socket);
      await connected(socket);
      const media = await oursJoin(socket, peers, (m) => medias.push(m));
      return { session, socket, media };
    };
    const patient = await join(links.patientUrl);
    const clinician = await join(links.clinicianUrl);
    await request(clinician.socket, 'admit', { id: patient.session.participantId });
  });
}

// --- bare ---------------------------------------------------------------------------------

let roomSeq = 0;

/** Both peers join a room and consume each other. */
export function bareCall(url: string, peers: PeerMediaFactory): Promise<Call> {
  const room = `room-${process.pid}-${++roomSeq}`;
  return twoPartyCall(async (sockets, medias) => {
    for (let i = 0; i < 2; i++) {
      const socket = io(url, { reconnection: false, forceNew: true });
      sockets.push(socket);
      await connected(socket);
      const info = await request<{ routerRtpCapabilities: types.RtpCapabilities; producers: { producerId: string }[] }>(socket, 'join', { room });
      const media = peers(socketSignal(socket, info.routerRtpCapabilities, bareProtocol));
      medias.push(media);
      socket.on('newProducer', (p: { producerId: string }) => void media.consume(p.producerId).catch(() => undefined));
      await media.start();
      for (const p of info.producers) void media.consume(p.producerId).catch(() => undefined);
    }
  });
}
