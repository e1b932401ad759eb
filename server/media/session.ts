/**
 * The media of one consultation: a router, and per participant the transports, producers and
 * consumers they own. Closing is idempotent and cascades child-first (mediasoup closes a
 * transport's producers and consumers with it).
 *
 * The router is opened when the first transport is asked for, not when someone joins: a
 * consultation whose people are only connected (a clinician's console open, a patient still
 * on the camera check or refused a camera) holds no media resources. Every router of the
 * process has the same codecs, hence the same capabilities, which joiners get beforehand.
 */
import { EventEmitter } from 'node:events';
import type {
  Consumer, DtlsParameters, MediaKind, Producer, Router, RtpCapabilities, RtpParameters, TransportListenInfo,
  WebRtcTransport,
} from 'mediasoup/node/lib/types.js';
import { AppError } from '../errors.js';
import { watchFirstPicture } from './first-picture.js';
import { SenderLayers, guardLayers } from './layer-guard.js';
import type { ConsumerOptions, ProducerView, TransportOptions } from '../../signalling/events.js';
import type { VideoFit } from '../../signalling/vocabulary.js';

export interface TransportSettings {
  listenInfos: TransportListenInfo[];
}

/** What the rest of the app may want to count (metrics). */
export interface MediaObservers {
  /** A consumer fell back to the lowest layer for its first picture (first-picture.ts). */
  firstPictureFallback?(): void;
}

interface Peer {
  transports: Map<string, WebRtcTransport>;
  producers: Map<string, Producer>;
  consumers: Map<string, Consumer>;
  /** The latest request for a transport per direction, and consumers being made per producer. */
  creating: Map<Direction, Promise<TransportOptions>>;
  consuming: Map<string, Promise<Consumer>>;
}

type Direction = 'send' | 'recv';

interface SessionEvents {
  /** A consumer's producer went away: tell the consuming participant. */
  producerClosed: [{ participantId: string; producerId: string }];
  /** A consumed producer was paused or resumed by its owner: tell the consuming participant. */
  producerPaused: [{ participantId: string; producerId: string; paused: boolean }];
  /** Video from `ownerId` to `participantId` paused (or resumed) because the link cannot carry it. */
  videoWeak: [{ participantId: string; ownerId: string; producerId: string; fit: VideoFit }];
  /** `router_lost`: the router went away under us (its worker died); `ended`: we closed it. */
  closed: [reason: SessionCloseReason];
}

export type SessionCloseReason = 'ended' | 'router_lost';

export type ProduceSource = 'mic' | 'camera' | 'screen';

export class MediaSession extends EventEmitter<SessionEvents> {
  private readonly peers = new Map<string, Peer>();
  private readonly senders = new SenderLayers();
  private closed = false;
  private router: Router | undefined;
  private opening: Promise<Router> | undefined;

  constructor(
    readonly consultationId: string,
    readonly rtpCapabilities: RtpCapabilities,
    private readonly openRouter: () => Promise<Router>,
    private readonly transportSettings: TransportSettings,
    private readonly observers: MediaObservers = {},
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * One transport per direction: a new one replaces (closes) the old, taking its producers or
   * consumers along, since each binds ports from the shared range. Requests for one direction
   * are made one after the other, so a burst never holds more than one half-made transport.
   */
  async createTransport(participantId: string, direction: Direction): Promise<TransportOptions> {
    const peer = this.peer(participantId); // refuses at once once the consultation has ended
    const mine = (peer.creating.get(direction) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.newTransport(participantId, direction));
    peer.creating.set(direction, mine);
    try {
      return await mine;
    } finally {
      if (peer.creating.get(direction) === mine) peer.creating.delete(direction);
    }
  }

  private async newTransport(participantId: string, direction: Direction): Promise<TransportOptions> {
    const router = await this.routerOpen();
    const peer = this.peer(participantId);
    const transport = await router.createWebRtcTransport({
      listenInfos: this.transportSettings.listenInfos,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 800_000,
      appData: { direction },
    });
    // The peer may have been closed meanwhile (left, rejoined): then nobody owns this one.
    if (this.peers.get(participantId) !== peer) {
      transport.close();
      throw new AppError('invalid_state', 'This connection was replaced; join again.');
    }
    for (const old of peer.transports.values()) if (old.appData.direction === direction) old.close();
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    return {
      id: transport.id,
      iceParameters: { ...transport.iceParameters },
      iceCandidates: transport.iceCandidates.map((c) => ({ ...c })),
      dtlsParameters: { ...transport.dtlsParameters },
    };
  }

  async connectTransport(participantId: string, transportId: string, dtlsParameters: Record<string, unknown>): Promise<void> {
    await this.mediasoupCall(() => this.transport(participantId, transportId).connect({ dtlsParameters: dtlsParameters as unknown as DtlsParameters }));
  }

  async restartIce(participantId: string, transportId: string): Promise<Record<string, unknown>> {
    const ice = await this.mediasoupCall(() => this.transport(participantId, transportId).restartIce());
    return { ...ice };
  }

  /** One producer per source: a new one replaces (closes) the old, whose consumers are told. */
  async produce(participantId: string, transportId: string, kind: MediaKind, rtpParameters: Record<string, unknown>, source: ProduceSource): Promise<ProducerView> {
    const peer = this.peer(participantId);
    const transport = this.transport(participantId, transportId);
    if (transport.appData.direction !== 'send') throw new AppError('invalid_state', 'Media is sent on a sending transport.');
    const producer = await this.mediasoupCall(() =>
      transport.produce({ kind, rtpParameters: rtpParameters as unknown as RtpParameters, appData: { source, participantId } }),
    );
    for (const old of peer.producers.values()) if (old.appData.source === source) old.close();
    peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => {
      peer.producers.delete(producer.id);
      this.senders.forget(producer.id);
    });
    return { producerId: producer.id, participantId, kind, source };
  }

  async pauseProducer(participantId: string, producerId: string, paused: boolean): Promise<void> {
    const producer = this.peer(participantId).producers.get(producerId);
    if (!producer) throw new AppError('not_found', 'No such media stream.');
    if (paused) await producer.pause();
    else await producer.resume();
  }

  /**
   * The sender's page says how many of a camera's simulcast layers its browser is encoding now
   * (bottom up): its consumers stop waiting for a layer that no longer comes.
   */
  sendingLayers(participantId: string, producerId: string, layers: number): void {
    const producer = this.peer(participantId).producers.get(producerId);
    if (!producer) throw new AppError('not_found', 'No such media stream.');
    if (producer.type !== 'simulcast') return;
    this.senders.set(producer.id, Math.min(layers, producer.rtpParameters.encodings?.length ?? 1) - 1);
  }

  closeProducer(participantId: string, producerId: string): void {
    const producer = this.peer(participantId).producers.get(producerId);
    if (!producer) throw new AppError('not_found', 'No such media stream.');
    producer.close();
  }

  /**
   * Creates a paused consumer; the client resumes it once its side is ready (no lost keyframe).
   * One per (participant, producer): asking again answers the existing one, so a client that
   * lost the first answer can retry without the server holding a second stream.
   */
  async consume(participantId: string, producerId: string, rtpCapabilities: Record<string, unknown>): Promise<ConsumerOptions> {
    const peer = this.peer(participantId);
    const owner = this.ownerOf(producerId);
    if (!owner || owner === participantId) throw new AppError('not_found', 'No such media stream.');
    const existing = [...peer.consumers.values()].find((c) => c.producerId === producerId);
    if (existing) return consumerOptions(existing, owner);
    // Asked again while the first is being made (no await before this point): the same answer.
    let making = peer.consuming.get(producerId);
    if (!making) {
      making = this.newConsumer(peer, participantId, producerId, rtpCapabilities as unknown as RtpCapabilities);
      peer.consuming.set(producerId, making);
      making.finally(() => peer.consuming.delete(producerId)).catch(() => undefined);
    }
    return consumerOptions(await making, owner);
  }

  private async newConsumer(peer: Peer, participantId: string, producerId: string, caps: RtpCapabilities): Promise<Consumer> {
    // A producer exists, so the router does too.
    if (!this.router?.canConsume({ producerId, rtpCapabilities: caps })) {
      throw new AppError('media_failed', 'This browser cannot play that media stream.');
    }
    const recv = [...peer.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!recv) throw new AppError('invalid_state', 'Create a receiving transport first.');
    const consumer = await this.mediasoupCall(() => recv.consume({ producerId, rtpCapabilities: caps, paused: true }));
    peer.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => peer.consumers.delete(consumer.id));
    consumer.once('producerclose', () => this.emit('producerClosed', { participantId, producerId }));
    consumer.on('producerpause', () => this.emit('producerPaused', { participantId, producerId, paused: true }));
    consumer.on('producerresume', () => this.emit('producerPaused', { participantId, producerId, paused: false }));
    const ownerId = this.ownerOf(producerId);
    const producer = ownerId && this.peers.get(ownerId)?.producers.get(producerId);
    if (ownerId && producer) {
      guardLayers(consumer, producer, recv, this.senders, (fit) => this.emit('videoWeak', { participantId, ownerId, producerId, fit }));
    }
    return consumer;
  }

  async resumeConsumer(participantId: string, consumerId: string): Promise<void> {
    const consumer = this.peer(participantId).consumers.get(consumerId);
    if (!consumer) throw new AppError('not_found', 'No such media stream.');
    await consumer.resume();
    watchFirstPicture(consumer, () => this.observers.firstPictureFallback?.());
  }

  producersOf(participantId: string): ProducerView[] {
    const peer = this.peers.get(participantId);
    if (!peer) return [];
    return [...peer.producers.values()].map((p) => ({
      producerId: p.id, participantId, kind: p.kind, source: p.appData.source as ProduceSource,
    }));
  }

  /** Closes everything a participant owns (their transports take producers and consumers along). */
  closePeer(participantId: string): void {
    const peer = this.peers.get(participantId);
    if (!peer) return;
    this.peers.delete(participantId);
    for (const t of peer.transports.values()) t.close();
  }

  close(reason: SessionCloseReason = 'ended'): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.peers.keys()]) this.closePeer(id);
    if (this.router && !this.router.closed) this.router.close();
    this.emit('closed', reason);
  }

  /** The router, opened once; one that opens after the session closed is closed at once. */
  private async routerOpen(): Promise<Router> {
    if (this.router) return this.router;
    this.opening ??= this.openRouter().then((router) => {
      if (this.closed) {
        router.close();
        throw new AppError('consultation_closed', 'This consultation has ended.');
      }
      this.router = router;
      router.observer.once('close', () => this.close('router_lost'));
      return router;
    });
    try {
      return await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  private peer(participantId: string): Peer {
    if (this.closed) throw new AppError('consultation_closed', 'This consultation has ended.');
    let peer = this.peers.get(participantId);
    if (!peer) {
      peer = { transports: new Map(), producers: new Map(), consumers: new Map(), creating: new Map(), consuming: new Map() };
      this.peers.set(participantId, peer);
    }
    return peer;
  }

  private transport(participantId: string, transportId: string): WebRtcTransport {
    const t = this.peer(participantId).transports.get(transportId);
    if (!t) throw new AppError('not_found', 'No such transport.');
    return t;
  }

  ownerOf(producerId: string): string | undefined {
    for (const [id, peer] of this.peers) if (peer.producers.has(producerId)) return id;
    return undefined;
  }

  /** mediasoup rejects bad descriptions with TypeError: that is the client's fault, not ours. */
  private async mediasoupCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof TypeError) throw new AppError('validation_failed', `Media description refused: ${err.message}`);
      throw new AppError('media_failed', 'The media server could not do that.');
    }
  }
}

function consumerOptions(consumer: Consumer, owner: string): ConsumerOptions {
  return {
    id: consumer.id, producerId: consumer.producerId, kind: consumer.kind, rtpParameters: { ...consumer.rtpParameters },
    participantId: owner, producerPaused: consumer.producerPaused,
  };
}
