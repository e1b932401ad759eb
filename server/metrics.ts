/**
 * Prometheus metrics (prom-client), one registry per app so tests can run several apps.
 *
 * What is measured, and where it comes from:
 * - consultations by status, participants by role and presence: read from the store and the
 *   rooms at each scrape;
 * - status changes and the patient's waiting time: the Consultations `statusChanged` event;
 * - admit-to-first-frame and the media path (TURN relay or direct): reported by browsers to
 *   `POST /api/v1/telemetry/first-frame`;
 * - SMS sent / failed / unknown: a wrapper around the SMS provider;
 * - worker CPU and memory: /proc of the mediasoup worker processes; worker deaths (each one is
 *   replaced: they are the restarts): the pool's `workerDied`;
 * - WebRTC transports, their connections and ICE failures: mediasoup's observer API, watched
 *   here so the media layer needs no metrics code.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as mediasoup from 'mediasoup';
import type { Router, Transport, Worker } from 'mediasoup/node/lib/types.js';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Consultations } from './consultations/service.js';
import { AppError } from './errors.js';
import { FIRST_PICTURE_GRACE_MS } from './media/first-picture.js';
import { NotifyError } from './sms/notify.js';
import type { SmsProvider } from './sms/provider.js';
import type { AuditStore } from './store/store.js';

export interface MetricsReaders {
  /** Consultations with a live media router. */
  mediaSessions: () => number;
  consultationsByStatus?: () => Promise<Partial<Record<string, number>>>;
  /** Everyone in the live rooms, by role and presence. */
  participants?: () => Promise<{ role: string; presence: string }[]>;
  /** Process ids of the mediasoup workers. */
  workerPids?: () => number[];
}

const STATUSES = ['created', 'waiting', 'in_call', 'ended', 'expired'] as const;
/** Linux reports process times in clock ticks of 1/100 s (USER_HZ) on every mainstream architecture. */
const CLOCK_TICKS = 100;

/** Bounds of what a browser may report (ms): anything longer is not a measurement of joining. */
export const FIRST_FRAME_MAX_MS = 120_000;

export function createMetrics(read: MetricsReaders) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'openconsult_process_' });
  const registers = [registry];
  const cpuSeen = new Map<number, number>();

  const workerCpu = new Counter({
    name: 'openconsult_media_worker_cpu_seconds_total', help: 'CPU time (user + system) used by each mediasoup worker.',
    labelNames: ['pid'] as const, registers,
    collect() {
      const pids = read.workerPids?.() ?? [];
      for (const pid of [...cpuSeen.keys()]) {
        if (!pids.includes(pid)) {
          cpuSeen.delete(pid);
          this.remove({ pid: String(pid) });
        }
      }
      for (const pid of pids) {
        const total = procCpuSeconds(pid);
        if (total === undefined) continue;
        const before = cpuSeen.get(pid) ?? 0;
        if (total > before) this.inc({ pid: String(pid) }, total - before);
        cpuSeen.set(pid, Math.max(total, before));
      }
    },
  });

  return {
    registry,
    consultationTransitions: new Counter({
      name: 'openconsult_consultation_transitions_total', help: 'Consultation status changes, by new status.',
      labelNames: ['to'] as const, registers,
    }),
    consultations: new Gauge({
      name: 'openconsult_consultations', help: 'Consultations in the database, by status.',
      labelNames: ['status'] as const, registers,
      async collect() {
        const counts = (await read.consultationsByStatus?.()) ?? {};
        for (const status of STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    }),
    participants: new Gauge({
      name: 'openconsult_participants', help: 'Participants of live consultations, by role and presence.',
      labelNames: ['role', 'presence'] as const, registers,
      async collect() {
        const present = (await read.participants?.()) ?? [];
        this.reset();
        const counts = new Map<string, { role: string; presence: string; n: number }>();
        for (const p of present) {
          const key = `${p.role}/${p.presence}`;
          const c = counts.get(key) ?? { role: p.role, presence: p.presence, n: 0 };
          c.n += 1;
          counts.set(key, c);
        }
        for (const c of counts.values()) this.set({ role: c.role, presence: c.presence }, c.n);
      },
    }),
    waitingSeconds: new Histogram({
      name: 'openconsult_waiting_seconds',
      help: 'How long patients waited in the waiting room, by outcome (admitted, expired, ended).',
      labelNames: ['outcome'] as const, registers,
      buckets: [10, 30, 60, 120, 300, 600, 900, 1200, 1800, 2700, 3600],
    }),
    firstFrameSeconds: new Histogram({
      name: 'openconsult_first_frame_seconds',
      help: 'From admission (or joining the call) to the first remote video frame, as reported by browsers.',
      labelNames: ['role'] as const, registers,
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 60],
    }),
    mediaPaths: new Counter({
      name: 'openconsult_media_paths_total',
      help: 'Media connections as reported by browsers, by path: `relay` through TURN, `direct` to the SFU. Relay share: relay / sum.',
      labelNames: ['path'] as const, registers,
    }),
    sms: new Counter({
      name: 'openconsult_sms_total', help: 'Text messages by outcome: sent, failed, unknown (the provider may have sent it).',
      labelNames: ['provider', 'result'] as const, registers,
    }),
    linkRedemptions: new Counter({
      name: 'openconsult_link_redemptions_total', help: 'Link redemption attempts, by result.',
      labelNames: ['result'] as const, registers,
    }),
    workerDeaths: new Counter({
      name: 'openconsult_media_worker_deaths_total',
      help: 'mediasoup workers that died; each is replaced at once, so this counts worker restarts.', registers,
    }),
    workers: new Gauge({
      name: 'openconsult_media_workers', help: 'Running mediasoup workers.', registers,
      collect() {
        this.set(read.workerPids?.().length ?? 0);
      },
    }),
    workerCpu,
    workerMemory: new Gauge({
      name: 'openconsult_media_worker_resident_memory_bytes', help: 'Resident memory of each mediasoup worker.',
      labelNames: ['pid'] as const, registers,
      collect() {
        this.reset();
        for (const pid of read.workerPids?.() ?? []) {
          const bytes = procRssBytes(pid);
          if (bytes !== undefined) this.set({ pid: String(pid) }, bytes);
        }
      },
    }),
    liveMediaSessions: new Gauge({
      name: 'openconsult_media_sessions', help: 'Consultations with a live media router.', registers,
      collect() {
        this.set(read.mediaSessions());
      },
    }),
    transports: new Gauge({
      name: 'openconsult_media_transports', help: 'Open WebRTC transports (each participant has one to send, one to receive).', registers,
    }),
    transportsConnected: new Counter({
      name: 'openconsult_media_transports_connected_total',
      help: 'WebRTC transports whose ICE connected, by the protocol of the selected path (udp, tcp).',
      labelNames: ['protocol'] as const, registers,
    }),
    firstPictureFallbacks: new Counter({
      name: 'openconsult_first_picture_fallbacks_total',
      help: `Video streams that had shown no picture ${FIRST_PICTURE_GRACE_MS} ms after they started and fell back to the sender's lowest simulcast layer for it (the sender had switched its top layer off).`,
      registers,
    }),
    iceFailures: new Counter({
      name: 'openconsult_ice_failures_total',
      help: 'Media connection failures: `never_connected` (used but ICE never connected before it closed), `disconnected` (ICE lost after connecting), `dtls_failed`.',
      labelNames: ['reason'] as const, registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

// ---- observations --------------------------------------------------------------------------

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
    async send(sms) {
      try {
        await provider.send(sms);
        m.sms.inc({ provider: provider.name, result: 'sent' });
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

// ---- /proc --------------------------------------------------------------------------------

/** utime + stime of a process, in seconds; undefined when it is gone. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat(5); here shifted by the two before the ')' (pid, comm).
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size of a process in bytes; undefined when it is gone. */
export function procRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// ---- HTTP -------------------------------------------------------------------------------------

const FirstFrameBody = Type.Object(
  {
    /** Milliseconds from admission (the clinician: from joining the call) to the first remote video frame. */
    ms: Type.Integer({ minimum: 0, maximum: FIRST_FRAME_MAX_MS }),
    role: Type.Optional(Type.Union([Type.Literal('patient'), Type.Literal('clinician'), Type.Literal('guest')])),
    /** Whether the selected ICE candidate pair goes through a TURN relay (local candidate type `relay`). */
    relayed: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export interface MetricsRoutesDeps {
  metrics: Metrics;
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string | undefined;
  /** First-frame reports accepted per minute from one address. */
  reportsPerMinute?: number;
}

function bearerIs(req: FastifyRequest, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1] as string).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** GET /metrics (Prometheus), and the browsers' first-frame reports. */
export async function metricsRoutes(app: FastifyInstance, deps: MetricsRoutesDeps): Promise<void> {
  const { metrics, token } = deps;
  app.get('/metrics', async (req, reply) => {
    if (token && !bearerIs(req, token)) {
      throw new AppError('unauthorized', 'Send the metrics token as "Authorization: Bearer <token>".');
    }
    reply.header('content-type', metrics.registry.contentType);
    reply.header('cache-control', 'no-store');
    return metrics.registry.metrics();
  });

  app.post<{ Body: Static<typeof FirstFrameBody> }>('/api/v1/telemetry/first-frame', {
    schema: { body: FirstFrameBody },
    config: { rateLimit: { max: deps.reportsPerMinute ?? 30, timeWindow: 60_000 } },
  }, async (req, reply) => {
    observeFirstFrame(metrics, req.body);
    return reply.status(204).send();
  });
}
