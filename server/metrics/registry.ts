/**
 * The Prometheus metrics (prom-client), one registry per app so tests can run several apps.
 *
 * What is measured, and where it comes from:
 * - consultations by status, participants by role and presence, the longest current wait: read
 *   from the store and the rooms at each scrape;
 * - status changes and the patient's waiting time: the Consultations `statusChanged` event;
 * - admit-to-first-frame and the media path (TURN relay or direct): reported by browsers to
 *   `POST /api/v1/telemetry/first-frame`;
 * - SMS sent / failed / unknown: a wrapper around the SMS provider;
 * - worker CPU and memory: /proc of the mediasoup worker processes; worker deaths (each one is
 *   replaced: they are the restarts): the pool's `workerDied`;
 * - WebRTC transports, their connections and ICE failures: mediasoup's observer API, watched
 *   here so the media layer needs no metrics code.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { consultationStatuses } from '../../signalling/vocabulary.js';
import { FIRST_PICTURE_GRACE_MS } from '../media/first-picture.js';
import { procCpuSeconds, procRssBytes } from './proc.js';

export interface MetricsReaders {
  /** Consultations with a live media router. */
  mediaSessions: () => number;
  consultationsByStatus?: () => Promise<Partial<Record<string, number>>>;
  /** Everyone in the live rooms, by role and presence (with when they started waiting, if they wait). */
  participants?: () => Promise<{ role: string; presence: string; waitingSince?: number | undefined }[]>;
  /** The clock waits are measured with (the app's). */
  now?: () => number;
  /** Process ids of the mediasoup workers. */
  workerPids?: () => number[];
}

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
        for (const status of consultationStatuses) this.set({ status }, counts[status] ?? 0);
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
    // The control for "patient left waiting unseen" (hazard H04): the alert fires on this one
    // number, exactly when any patient has waited too long, whatever happens to the others.
    longestWait: new Gauge({
      name: 'openconsult_longest_wait_seconds',
      help: 'How long the patient who has waited longest in a waiting room right now has waited (0: nobody waits).',
      registers,
      async collect() {
        const now = read.now?.() ?? Date.now();
        const waits = ((await read.participants?.()) ?? [])
          .filter((p) => p.role === 'patient' && p.presence === 'waiting' && p.waitingSince !== undefined)
          .map((p) => Math.max(0, now - (p.waitingSince as number)) / 1000);
        this.set(waits.length ? Math.max(...waits) : 0);
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

