/**
 * The bare baseline: socket.io and mediasoup used directly, written only for the benchmark. No
 * links, sessions, waiting room, store, validation or audit; a room is a query string. It makes
 * the same media choices as the product (codecs, transport options, paused consumers resumed by
 * the client) so that the ratio ours/bare measures what the product adds, not a different setup.
 *
 *   mode 'media':      pages at / and /bare.js; events join, createTransport, connectTransport,
 *                      produce, consume, resume; server pushes newProducer.
 *   mode 'signalling': socket.io only; 'join' is acknowledged and recorded in a Map.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as mediasoup from 'mediasoup';
import type {
  Consumer, DtlsParameters, MediaKind, Producer, Router, RtpCapabilities, RtpCodecCapability, RtpParameters,
  WebRtcTransport, Worker,
} from 'mediasoup/node/lib/types.js';
import { Server, type Socket } from 'socket.io';

/** Written out again here (not imported) so the baseline owns no product code; run.ts checks they match. */
export const bareMediaCodecs: RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 600 } },
  {
    kind: 'video', mimeType: 'video/H264', clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

export interface BareServerOptions {
  mode: 'media' | 'signalling';
  /** The browser page (media mode): HTML and the bundled script. */
  page?: { html: string; js: string };
  rtcMinPort?: number;
  rtcMaxPort?: number;
  /** Same transport-level socket.io settings as the product, so only logic differs. */
  socketOptions?: { pingInterval: number; pingTimeout: number; maxHttpBufferSize: number };
  /** Where HTTP and media listen (the poor-network bench: a service address a phone's namespace reaches); 127.0.0.1 by default. */
  host?: string;
}

export interface BareServer {
  url: string;
  worker: Worker | undefined;
  /** Joined sockets (signalling mode). */
  joined: () => number;
  close: () => Promise<void>;
}

interface Peer {
  transports: Map<string, WebRtcTransport>;
  producers: Map<string, Producer>;
  consumers: Map<string, Consumer>;
}

interface Room {
  router: Router;
  peers: Map<string, Peer>;
}

type Ack = (res: { ok: true; data?: unknown } | { ok: false; error: string }) => void;

export async function startBareServer(opts: BareServerOptions): Promise<BareServer> {
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (opts.page && url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(opts.page.html);
    } else if (opts.page && url.pathname === '/bare.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(opts.page.js);
    } else {
      res.writeHead(404).end();
    }
  });
  const io = new Server(http, { serveClient: false, ...(opts.socketOptions ?? {}) });

  const joinedSockets = new Map<string, { room: string; at: number }>();
  let worker: Worker | undefined;
  const rooms = new Map<string, Promise<Room>>();

  if (opts.mode === 'signalling') {
    io.on('connection', (socket) => {
      socket.on('join', (payload: { room?: string }, ack: Ack) => {
        joinedSockets.set(socket.id, { room: String(payload?.room ?? ''), at: Date.now() });
        if (typeof ack === 'function') ack({ ok: true });
      });
      socket.on('disconnect', () => joinedSockets.delete(socket.id));
    });
  } else {
    worker = await mediasoup.createWorker({ logLevel: 'warn', rtcMinPort: opts.rtcMinPort ?? 50000, rtcMaxPort: opts.rtcMaxPort ?? 59999 });
    const w = worker;
    const roomOf = (id: string): Promise<Room> => {
      let r = rooms.get(id);
      if (!r) {
        r = w.createRouter({ mediaCodecs: bareMediaCodecs }).then((router) => ({ router, peers: new Map<string, Peer>() }));
        rooms.set(id, r);
      }
      return r;
    };
    io.on('connection', (socket: Socket) => {
      let room: Room | undefined;
      let roomId = '';
      const peer: Peer = { transports: new Map(), producers: new Map(), consumers: new Map() };
      const handle = (event: string, fn: (p: any) => Promise<unknown> | unknown) => {
        socket.on(event, (payload: unknown, ack: Ack) => {
          Promise.resolve()
            .then(() => fn(payload))
            .then((data) => ack({ ok: true, data }), (err: Error) => ack({ ok: false, error: err.message }));
        });
      };
      const transport = (id: string) => {
        const t = peer.transports.get(id);
        if (!t) throw new Error('no such transport');
        return t;
      };
      handle('join', async (p: { room: string }) => {
        roomId = String(p.room);
        room = await roomOf(roomId);
        room.peers.set(socket.id, peer);
        await socket.join(roomId);
        const producers = [...room.peers.entries()]
          .filter(([id]) => id !== socket.id)
          .flatMap(([id, other]) => [...other.producers.values()].map((pr) => ({ producerId: pr.id, peerId: id, kind: pr.kind })));
        return { routerRtpCapabilities: room.router.rtpCapabilities, producers };
      });
      handle('createTransport', async (p: { direction: 'send' | 'recv' }) => {
        if (!room) throw new Error('join first');
        const t = await room.router.createWebRtcTransport({
          listenInfos: [{ protocol: 'udp', ip: opts.host ?? '127.0.0.1' }, { protocol: 'tcp', ip: opts.host ?? '127.0.0.1' }],
          enableUdp: true, enableTcp: true, preferUdp: true,
          initialAvailableOutgoingBitrate: 800_000,
          appData: { direction: p.direction },
        });
        peer.transports.set(t.id, t);
        return { id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters };
      });
      handle('connectTransport', async (p: { transportId: string; dtlsParameters: DtlsParameters }) => {
        await transport(p.transportId).connect({ dtlsParameters: p.dtlsParameters });
      });
      handle('produce', async (p: { transportId: string; kind: MediaKind; rtpParameters: RtpParameters }) => {
        const producer = await transport(p.transportId).produce({ kind: p.kind, rtpParameters: p.rtpParameters });
        peer.producers.set(producer.id, producer);
        socket.to(roomId).emit('newProducer', { producerId: producer.id, peerId: socket.id, kind: producer.kind });
        return { producerId: producer.id };
      });
      handle('consume', async (p: { producerId: string; rtpCapabilities: RtpCapabilities }) => {
        const recv = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
        if (!room || !recv) throw new Error('no recv transport');
        const consumer = await recv.consume({ producerId: p.producerId, rtpCapabilities: p.rtpCapabilities, paused: true });
        peer.consumers.set(consumer.id, consumer);
        consumer.on('producerclose', () => {
          peer.consumers.delete(consumer.id);
          socket.emit('producerClosed', { producerId: p.producerId });
        });
        return { id: consumer.id, producerId: p.producerId, kind: consumer.kind, rtpParameters: consumer.rtpParameters };
      });
      handle('resume', async (p: { id: string }) => {
        await peer.consumers.get(p.id)?.resume();
      });
      socket.on('disconnect', () => {
        for (const t of peer.transports.values()) t.close();
        if (!room) return;
        room.peers.delete(socket.id);
        if (room.peers.size === 0) {
          room.router.close();
          rooms.delete(roomId);
        }
      });
    });
  }

  await new Promise<void>((resolve) => http.listen(0, opts.host ?? '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    worker,
    joined: () => joinedSockets.size,
    async close() {
      await io.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      worker?.close();
    },
  };
}
