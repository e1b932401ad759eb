/**
 * What feeds the metrics besides scrapes: browsers' reports, the Consultations' status changes,
 * the SMS provider's outcomes, and mediasoup's observer API (watched here so the media layer
 * needs no metrics code).
 */
import type { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { Router, Transport, Worker } from 'mediasoup/node/lib/types.js';
import type { Consultations } from '../consultations/service.js';
import { NotifyError } from '../sms/notify.js';
import type { SmsProvider } from '../sms/provider.js';
import type { AuditStore } from '../store/store.js';
import type { Metrics } from './registry.js';

export type IceFailureReason = 'never_connected' | 'disconnected' | 'dtls_failed';

/** A browser's report: from admission to the first remote video frame, and how its media flows. */
export function observeFirstFrame(m: Metrics, report: { ms: number; role?: string | undefined; relayed?: boolean | undefined }): void {
  m.firstFrameSeconds.observe({ role: report.role ?? 'unknown' }, report.ms / 1000);
  if (report.relayed !== undefined) observeMediaPath(m, report.relayed);
}

/** One media connection's path: through a TURN relay or straight to the SFU. */
export function observeMediaPath(m: Metrics, relayed: boolean): void {
  m.mediaPaths.inc({ path: relayed ? 'relay' : 'direct' });
}

export function observeIceFailure(m: Metrics, reason: IceFailureReason): void {
  m.iceFailures.inc({ reason });
}

/** Counts status changes and measures how long each patient waited, from the audit log's times. */
export function watchConsultations(consultations: Consultations, store: Pick<AuditStore, 'statusSince'>, m: Metrics, now: () => number): void {
  consultations.on('statusChanged', (c) => {
    m.consultationTransitions.inc({ to: c.to });
    if (c.from !== 'waiting') return;
    const at = now();
    const outcome = c.to === 'in_call' ? 'admitted' : c.to;
    // A store that cannot answer costs this one observation, nothing else.
    store.statusSince(c.id, 'waiting').then((since) => {
      if (since !== undefined) m.waitingSeconds.observe({ outcome }, Math.max(0, at - since) / 1000);
    }, () => {});
  });
}

/** The SMS provider, counting each message's outcome. */
export function countingSms(provider: SmsProvider, m: Metrics): SmsProvider {
  return {
    name: provider.name,
    ...(provider.deliveryOf ? { deliveryOf: (id: string) => provider.deliveryOf!(id) } : {}),
    async send(sms) {
      try {
        const sent = await provider.send(sms);
        m.sms.inc({ provider: provider.name, result: 'sent' });
        return sent;
      } catch (err) {
        const result = err instanceof NotifyError && err.kind === 'unknown_outcome' ? 'unknown' : 'failed';
        m.sms.inc({ provider: provider.name, result });
        throw err;
      }
    },
  };
}

/** What watchTransport needs of a mediasoup WebRtcTransport (an EventEmitter in tests). */
export interface ObservedTransport {
  readonly observer: EventEmitter;
  readonly iceSelectedTuple?: { protocol: string } | undefined;
}

/**
 * Follows one WebRTC transport: open count, connection (with its protocol), and failures. A
 * transport that carried a producer or consumer but closed without ICE ever connecting is a
 * failure; one that was created and never used (a waiting room left early) is not.
 */
export function watchTransport(t: ObservedTransport, m: Metrics): void {
  m.transports.inc();
  let used = false;
  let connected = false;
  const markUsed = () => {
    used = true;
  };
  t.observer.on('newproducer', markUsed);
  t.observer.on('newconsumer', markUsed);
  t.observer.on('icestatechange', (state: string) => {
    if ((state === 'connected' || state === 'completed') && !connected) {
      connected = true;
      m.transportsConnected.inc({ protocol: t.iceSelectedTuple?.protocol ?? 'unknown' });
    } else if (state === 'disconnected') {
      observeIceFailure(m, 'disconnected');
    }
  });
  t.observer.on('dtlsstatechange', (state: string) => {
    if (state === 'failed') observeIceFailure(m, 'dtls_failed');
  });
  t.observer.once('close', () => {
    m.transports.dec();
    if (used && !connected) observeIceFailure(m, 'never_connected');
  });
}

/**
 * Watches every WebRTC transport created on this app's mediasoup workers (`ownsWorker`), through
 * mediasoup's process-wide observer. Call before the workers are created; returns the undo.
 */
export function watchMediasoup(m: Metrics, ownsWorker: (pid: number) => boolean): () => void {
  const onWorker = (worker: Worker) => {
    worker.observer.on('newrouter', (router: Router) => {
      if (!ownsWorker(worker.pid)) return;
      router.observer.on('newtransport', (transport: Transport) => {
        if ('iceState' in transport) watchTransport(transport as unknown as ObservedTransport, m);
      });
    });
  };
  mediasoup.observer.on('newworker', onWorker);
  return () => {
    mediasoup.observer.off('newworker', onWorker);
  };
}


/** What watchRegion needs of the cluster: its id and its events (an EventEmitter in tests). */
export interface ObservedCluster {
  readonly nodeId: string;
  on(event: 'placed', listener: (consultationId: string, on: string, from: string | null) => void): unknown;
  on(event: 'nodeLost', listener: (node: string) => void): unknown;
  on(event: 'displaced', listener: (consultationId: string) => void): unknown;
}

/** Counts placements (new, or taken over from a lost node), lost nodes and displaced consultations. */
export function watchRegion(cluster: ObservedCluster, m: Metrics): void {
  cluster.on('placed', (_id, on, from) => {
    m.placements.inc({ from: from === null ? 'new' : 'lost_node', to: on === cluster.nodeId ? 'this_node' : 'other_node' });
  });
  cluster.on('nodeLost', () => m.nodesLost.inc());
  cluster.on('displaced', () => m.displaced.inc());
}

/** The socket handshake's placement question, counting each `moved` answer. */
export function countingMoved<W extends { here: boolean }>(where: (consultationId: string) => Promise<W>, m: Metrics) {
  return async (consultationId: string): Promise<W> => {
    const answer = await where(consultationId);
    if (!answer.here) m.moved.inc();
    return answer;
  };
}

/** A browser's peer-to-peer report (issue #17): the direct path reached, or given up on. */
export function observeP2pPath(m: Metrics, report: { outcome: 'direct'; ms: number; role: string } | { outcome: 'fallback'; reason: string }): void {
  if (report.outcome === 'direct') m.p2pDirectSeconds.observe({ role: report.role }, report.ms / 1000);
  else m.p2pPageFallbacks.inc({ reason: report.reason });
}
