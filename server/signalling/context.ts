/**
 * What every phase's handlers share: the live consultations, the consultations service and
 * the socket's own live consultation (refused once it has closed).
 */
import { type LiveConsultation, consultationClosed } from '../consultations/live.js';
import type { LiveConsultations } from '../consultations/live-registry.js';
import type { Consultations } from '../consultations/service.js';
import type { Logger } from '../log.js';
import type { IdentityCheck } from '../consultations/identity.js';
import type { HandlerSet, TypedSocket } from './handler.js';
import type { MediaPaths } from './path.js';
import type { EventLimiter } from './rate.js';

export interface PhaseContext {
  live: LiveConsultations;
  consultations: Consultations;
  logger: Logger;
  now: () => number;
  turnUrls: readonly string[];
  turnSecret: string | undefined;
  iceTransportPolicy: 'all' | 'relay';
  /** One token bucket per connection, shared by every phase's handlers. */
  limiter: EventLimiter;
  /** The patient's date-of-birth check: a patient joins only once it is confirmed (issue #18). */
  identity: Pick<IdentityCheck, 'ensureConfirmed'>;
  /** Who goes peer-to-peer with whom (path.ts): relays their signals. */
  paths: Pick<MediaPaths, 'relay'>;
}

/** Handler sets by what a socket may do now (capability follows state, design.md 7.3). */
export type Phase = 'lobby' | 'prepare' | 'call' | 'host';
export type Phases = Record<Phase, HandlerSet>;

export function liveOf(ctx: PhaseContext, socket: TypedSocket): LiveConsultation {
  const live = ctx.live.find(socket.data.consultationId);
  if (!live) throw consultationClosed();
  return live;
}
