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
 *   here so the media layer needs no metrics code;
 * - this node and its region (node id, live consultations here, draining; the region's nodes):
 *   read at each scrape; placements, lost nodes, displaced consultations and `moved` answers:
 *   the cluster's events (observers.ts `watchRegion`);
 * - peer-to-peer: time from admission to media on the direct path and pages' fallbacks, reported
 *   by browsers to `POST /api/v1/telemetry/p2p`.
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
  /** This node and the region it belongs to (server/cluster/). */
  region?: RegionReaders;
}

export interface RegionReaders {
  nodeId: string;
  /** `single`: the embedded default (one process); `region`: one node of several (REDIS_URL). */
  mode: 'single' | 'region';
  /** Consultations live on this node. */
  live: () => number;
  /** Whether this node is draining (refusing new consultations, /readyz 503). */
  draining: () => boolean;
  /** The nodes alive in the region now (the cluster's registry); rejects when it cannot say. */
  nodes: () => Promise<readonly { draining: boolean }[]>;
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
    ...regionMetrics(read.region, registers),
    iceFailures: new Counter({
      name: 'openconsult_ice_failures_total',
      help: 'Media connection failures: `never_connected` (used but ICE never connected before it closed), `disconnected` (ICE lost after connecting), `dtls_failed`.',
      labelNames: ['reason'] as const, registers,
    }),
  };
}

/**
 * This node and its region. Every node reports the region's node count as it sees it, so a
 * dashboard takes the max over nodes; the counters are this node's own (a lost node is seen by
 * the one node that adopts its calls, so the region's figure is their sum).
 */
function regionMetrics(read: RegionReaders | undefined, registers: Registry[]) {
  const nodes = onePerScrape(read);
  return {
    nodeInfo: new Gauge({
      name: 'openconsult_node_info', help: 'This node: its NODE_ID and mode (`single`: one process; `region`: one node of several). Always 1.',
      labelNames: ['node', 'mode'] as const, registers,
      collect() {
        this.reset();
        if (read) this.set({ node: read.nodeId, mode: read.mode }, 1);
      },
    }),
    nodeLive: new Gauge({
      name: 'openconsult_node_live_consultations', help: 'Consultations live on this node (someone joined; signalling and media here).', registers,
      collect() {
        this.set(read?.live() ?? 0);
      },
    }),
    nodeDraining: new Gauge({
      name: 'openconsult_node_draining', help: '1 while this node drains (new consultations go elsewhere or are refused; /readyz 503).', registers,
      collect() {
        this.set(read?.draining() ? 1 : 0);
      },
    }),
    regionNodes: new Gauge({
      name: 'openconsult_region_nodes',
      help: 'Nodes alive in the region as this node sees them, by draining (`false`: ready for new consultations). No samples while the registry cannot be read.',
      labelNames: ['draining'] as const, registers,
      async collect() {
        this.reset();
        const alive = await nodes();
        if (!alive) return;
        const draining = alive.filter((n) => n.draining).length;
        this.set({ draining: 'false' }, alive.length - draining);
        this.set({ draining: 'true' }, draining);
      },
    }),
    registryUp: new Gauge({
      name: 'openconsult_region_registry_up', help: '1 when the region\'s node registry answered at this scrape (0: Redis away; calls here go on, new ones elsewhere wait).', registers,
      async collect() {
        this.set((await nodes()) ? 1 : 0);
      },
    }),
    placements: new Counter({
      name: 'openconsult_placements_total',
      help: 'Consultations this node placed: `from` `new` (held nowhere) or `lost_node` (its node stopped reporting); `to` `this_node` or `other_node`.',
      labelNames: ['from', 'to'] as const, registers,
    }),
    nodesLost: new Counter({
      name: 'openconsult_region_nodes_lost_total', help: 'Nodes that stopped reporting without draining, as seen by this node (each lost node is seen by one node).', registers,
    }),
    displaced: new Counter({
      name: 'openconsult_region_displaced_total', help: 'Consultations this node held that another node took over (after a partition); their pages moved there.', registers,
    }),
    moved: new Counter({
      name: 'openconsult_socket_moved_total', help: 'Socket connections answered `moved`: the consultation is held on another node and the page was sent there.', registers,
    }),
    // Peer-to-peer for two (issue #17): server/signalling/path.ts.
    mediaPathConsultations: new Gauge({
      name: 'openconsult_media_path_consultations',
      help: 'Live consultations by media path: `p2p` once a page shows the other\'s media from the direct connection, else `sfu`.',
      labelNames: ['path'] as const, registers,
    }),
    mediaPathSwitches: new Counter({
      name: 'openconsult_media_path_switches_total',
      help: 'Calls whose media moved to the direct connection (`to="p2p"`) or back to the SFU (`to="sfu"`).',
      labelNames: ['to'] as const, registers,
    }),
    p2pFallbacks: new Counter({
      name: 'openconsult_p2p_fallbacks_total',
      help: 'Direct connections a page gave up on (ICE failed, not connected in time, frozen): the call stayed on or returned to the SFU.',
      registers,
    }),
    // Peer-to-peer as the pages saw it (issue #17): POST /api/v1/telemetry/p2p.
    p2pDirectSeconds: new Histogram({
      name: 'openconsult_p2p_direct_seconds',
      help: 'From admission (or joining the call) to the other\'s media shown from the direct connection, as reported by browsers.',
      labelNames: ['role'] as const, registers,
      buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 8, 20],
    }),
    p2pPageFallbacks: new Counter({
      name: 'openconsult_p2p_page_fallbacks_total',
      help: 'Direct connections a page gave up on, as reported by browsers, by reason: `failed` (ICE), `slow` (not decoding within 8 s), `frozen` (no new frame for 2.5 s).',
      labelNames: ['reason'] as const, registers,
    }),
  };
}

/**
 * The region's nodes, or undefined when the registry cannot answer (the scrape goes on). Two
 * gauges read them and a scrape starts every collect at once: they share one registry read,
 * forgotten once it has answered, so the next scrape reads afresh.
 */
function onePerScrape(read: RegionReaders | undefined): () => Promise<readonly { draining: boolean }[] | undefined> {
  let pending: Promise<readonly { draining: boolean }[] | undefined> | undefined;
  return () => {
    if (!read) return Promise.resolve(undefined);
    pending ??= read.nodes().catch(() => undefined).finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

