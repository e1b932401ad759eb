/**
 * Ties this node's live consultations to the region (cluster.ts): what happens to a consultation
 * on one node reaches the node that holds it, rooms are published for the console of any node,
 * a consultation handed to another node lets go here, and a lost node's calls are adopted.
 * With `SingleNode` every step is a no-op.
 */
import type { LiveConsultations } from '../consultations/live-registry.js';
import { isTerminal } from '../consultations/lifecycle.js';
import type { Consultations } from '../consultations/service.js';
import type { Timekeeper, TimerRegion } from '../consultations/timekeeper.js';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import { type Cluster, nodeSocketPath } from './cluster.js';

export interface RegionDeps {
  cluster: Cluster;
  consultations: Consultations;
  live: LiveConsultations;
  timekeeper: Timekeeper;
  logger: Logger;
}

export function joinRegion({ cluster, consultations, live, timekeeper, logger }: RegionDeps): void {
  if (!cluster.multiNode) return;
  consultations.on('statusChanged', ({ id, to, reason }) => {
    if (isTerminal(to)) cluster.send('closed', { id, reason: reason ?? 'ended_by_api' });
  });
  consultations.on('sessionsRevoked', ({ id, participantId }) => cluster.send('revoked', { id, participantId }));
  cluster.on('message', (...[type, body]) => {
    switch (type) {
      case 'closed':
        return live.ended(body.id, body.reason);
      case 'revoked':
        return live.revoked(body.id, body.participantId);
      case 'due':
        // Only the node that holds it answers; a node that does not is not asked anything.
        if (live.find(body.consultationId)) {
          timekeeper.ownerDue(body).catch((err: unknown) => logger.error({ err, consultationId: body.consultationId }, 'lifecycle timer failed'));
        }
        return;
    }
  });
  live.on('roomChanged', (l) => cluster.publishRoom(l.id, l.view()));
  live.on('closed', (l) => {
    cluster.publishRoom(l.id, undefined);
    cluster.release(l.id).catch((err: unknown) => logger.warn({ err, consultationId: l.id }, 'placement not released'));
  });
  cluster.on('displaced', (id) => {
    logger.warn({ consultationId: id }, 'another node holds this consultation now: its clients move there');
    live.find(id)?.handOver();
  });
  cluster.on('nodeLost', (node) => {
    logger.warn({ node }, 'node lost: its calls move to the nodes their pages reach');
    timekeeper.adoptOrphans().catch((err: unknown) => logger.error({ err }, 'lifecycle timers failed'));
  });
}

/** The timers' view of the region (see TimerRegion); undefined for the single node. */
export function timerRegion(cluster: Cluster, live: LiveConsultations, logger: Logger): TimerRegion | undefined {
  if (!cluster.multiNode) return undefined;
  return {
    pollMs: 1000,
    async route(d) {
      if (live.find(d.consultationId)) return 'here';
      const owner = await cluster.ownerOf(d.consultationId);
      if (!owner || owner === cluster.nodeId) return 'here';
      cluster.send('due', d);
      return 'elsewhere';
    },
    async orphaned(ids) {
      const out: string[] = [];
      try {
        for (const id of ids) if (!live.find(id) && !(await cluster.ownerOf(id))) out.push(id);
      } catch (err) {
        // The region cannot say (Redis away): adopt nothing now; the next lost node or start asks again.
        logger.warn({ err }, 'cannot tell which calls are held: none adopted');
        return [];
      }
      return out;
    },
  };
}

/**
 * Where a page should hold its signalling connection for `consultationId`: here, or the socket.io
 * path of the node that holds it. If the region cannot say (Redis away), a consultation live here
 * stays here; any other waits (`unavailable`: the page tries again).
 */
export async function connectWhere(cluster: Cluster, live: LiveConsultations, consultationId: string): Promise<{ here: true } | { here: false; path: string }> {
  try {
    const placed = await cluster.place(consultationId);
    return placed.where === 'here' ? { here: true } : { here: false, path: nodeSocketPath(placed.node) };
  } catch {
    if (live.find(consultationId)) return { here: true };
    throw new AppError('unavailable', 'The service is busy for a moment. Trying again…');
  }
}
