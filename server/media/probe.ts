/**
 * Connection-check transports: a short-lived WebRtcTransport (ICE, DTLS and SCTP, no media) on
 * one router kept for checks, which the check step's page connects to, first directly and then
 * only through the TURN relay, to learn how its media would reach this service
 * (client/page/connection-check.ts). Each is closed after use, or after PROBE_LIFETIME_MS
 * whatever happens; a participant has at most one open and PROBES_PER_WINDOW in a window, and
 * the node at most MAX_OPEN, so checks cannot load a worker. What each participant's check
 * found is kept here for a while, so the clinician sees it once the person joins.
 */
import type { DtlsParameters, Router, WebRtcTransport, TransportListenInfo } from 'mediasoup/node/lib/types.js';
import type { ConnectionKind } from '../../signalling/vocabulary.js';
import { AppError } from '../errors.js';

/** A check's transport lives at most this long: a check takes a few seconds. */
export const PROBE_LIFETIME_MS = 20_000;
/** Checks one participant may start in PROBE_WINDOW_MS (a check uses two: direct, then relay). */
export const PROBES_PER_WINDOW = 6;
export const PROBE_WINDOW_MS = 10 * 60_000;
/** Check transports open at once on this node. */
export const MAX_OPEN = 50;
/** How long a participant's result is remembered (a patient may look at the check for a while). */
const RESULT_TTL_MS = 2 * 3600_000;
const MAX_RESULTS = 10_000;

export interface ProbeParameters {
  id: string;
  routerRtpCapabilities: Record<string, unknown>;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
  sctpParameters: Record<string, unknown>;
}

interface Probe {
  transport: WebRtcTransport;
  participantId: string;
  timer: NodeJS.Timeout;
}

export interface ProbeDeps {
  createRouter: () => Promise<Router>;
  listenInfos: TransportListenInfo[];
  now: () => number;
}

const busy = () => new AppError('rate_limited', 'The connection check was run too often. Join anyway: the call will try every way to connect.');

export class Probes {
  private router: Promise<Router> | undefined;
  private readonly open = new Map<string, Probe>();
  /** Start times of each participant's recent checks. */
  private readonly started = new Map<string, number[]>();
  private readonly results = new Map<string, { kind: ConnectionKind; at: number }>();
  private closed = false;

  constructor(private readonly deps: ProbeDeps) {}

  async create(participantId: string): Promise<ProbeParameters> {
    if (this.closed) throw new AppError('unavailable', 'The service is stopping.');
    const now = this.deps.now();
    const recent = (this.started.get(participantId) ?? []).filter((t) => t > now - PROBE_WINDOW_MS);
    const mine = [...this.open.values()].filter((p) => p.participantId === participantId);
    if (recent.length >= PROBES_PER_WINDOW || this.open.size >= MAX_OPEN) throw busy();
    // A new check replaces the participant's earlier one (a reload, or direct then relay).
    for (const p of mine) this.close(participantId, p.transport.id);
    recent.push(now);
    this.started.set(participantId, recent);

    const router = await this.routerOpen();
    const transport = await router.createWebRtcTransport({
      listenInfos: this.deps.listenInfos, enableUdp: true, enableTcp: true, preferUdp: true, enableSctp: true, appData: { probe: true },
    });
    const timer = setTimeout(() => transport.close(), PROBE_LIFETIME_MS);
    timer.unref();
    this.open.set(transport.id, { transport, participantId, timer });
    transport.observer.once('close', () => {
      clearTimeout(timer);
      this.open.delete(transport.id);
    });
    return {
      id: transport.id,
      routerRtpCapabilities: { ...router.rtpCapabilities },
      iceParameters: { ...transport.iceParameters },
      iceCandidates: transport.iceCandidates.map((c) => ({ ...c })),
      dtlsParameters: { ...transport.dtlsParameters },
      sctpParameters: { ...transport.sctpParameters },
    };
  }

  async connect(participantId: string, id: string, dtlsParameters: Record<string, unknown>): Promise<void> {
    const probe = this.probe(participantId, id);
    try {
      await probe.transport.connect({ dtlsParameters: dtlsParameters as unknown as DtlsParameters });
    } catch {
      throw new AppError('validation_failed', 'The connection check could not use these DTLS parameters.');
    }
  }

  close(participantId: string, id: string): void {
    const probe = this.open.get(id);
    if (probe?.participantId === participantId) probe.transport.close();
  }

  /** What a participant's check found (their own report, at the end of the check). */
  record(participantId: string, kind: ConnectionKind): void {
    const now = this.deps.now();
    this.results.delete(participantId);
    this.results.set(participantId, { kind, at: now });
    // Oldest first in a Map: drop those past their time, and any beyond the cap.
    for (const [id, r] of this.results) {
      if (r.at > now - RESULT_TTL_MS && this.results.size <= MAX_RESULTS) break;
      this.results.delete(id);
    }
  }

  kindOf(participantId: string): ConnectionKind | undefined {
    const r = this.results.get(participantId);
    return r && r.at > this.deps.now() - RESULT_TTL_MS ? r.kind : undefined;
  }

  get openCount(): number {
    return this.open.size;
  }

  closeAll(): void {
    this.closed = true;
    for (const p of [...this.open.values()]) p.transport.close();
    void this.router?.then((r) => r.close(), () => undefined);
  }

  private probe(participantId: string, id: string): Probe {
    const probe = this.open.get(id);
    if (!probe || probe.participantId !== participantId) throw new AppError('not_found', 'This connection check is over. Start it again.');
    return probe;
  }

  /** The checks' router, made again if its worker died. */
  private async routerOpen(): Promise<Router> {
    const current = await this.router?.catch(() => undefined);
    if (current && !current.closed) return current;
    this.router = this.deps.createRouter();
    return this.router;
  }
}
