/**
 * "Phone me instead" (issue #18): a patient whose video does not work asks the practice to phone
 * them on the number it has. The link's code identifies the consultation even where there is no
 * session (a used or expired link's error page): it proves the person got the text. At most one
 * request is pending per consultation; each is audited, and announced so the clinician's page
 * hears it at once (the console sees it on its next poll, wherever the consultation is held).
 */
import { EventEmitter } from 'node:events';
import { hashCode } from '../auth/codes.js';
import { linkError } from '../auth/links.js';
import { AppError } from '../errors.js';
import type { CallbackStore, LinkStore, RetentionStore } from '../store/store.js';
import type { Actor, Consultations } from './service.js';

export interface CallbackRequested {
  consultationId: string;
  at: number;
}

export interface CallbackDeps {
  store: CallbackStore & Pick<LinkStore, 'findLink'> & Pick<RetentionStore, 'personalDataDeleted'>;
  consultations: Consultations;
  now: () => number;
}

export class Callbacks extends EventEmitter<{ requested: [CallbackRequested] }> {
  constructor(private readonly deps: CallbackDeps) {
    super();
  }

  /** The patient's request, by their link's code. `already`: one was pending (nothing new is sent). */
  async requestByLink(code: string): Promise<{ already: boolean }> {
    const link = await this.deps.store.findLink(hashCode(code));
    if (!link) throw linkError('not_found');
    const role = (await this.deps.consultations.participant(link.participantId))?.role;
    if (role !== 'patient') {
      throw new AppError('forbidden', 'Only the patient can ask to be phoned. Please ask the person who invited you.');
    }
    const id = link.consultationId;
    // Once retention has deleted the number there is nobody to phone.
    if (await this.deps.store.personalDataDeleted(id)) {
      throw new AppError('consultation_closed', 'This consultation is over. Please call the practice.');
    }
    const at = this.deps.now();
    if (!(await this.deps.store.requestCallback(id, at))) return { already: true };
    await this.deps.consultations.audit(id, 'patient', 'callback_requested');
    this.emit('requested', { consultationId: id, at });
    return { already: false };
  }

  /** Someone at the practice phoned the patient; false if no request was pending. */
  async complete(consultationId: string, actor: Actor): Promise<boolean> {
    const done = await this.deps.store.completeCallback(consultationId, this.deps.now());
    if (done) await this.deps.consultations.audit(consultationId, actor, 'callback_done');
    return done;
  }

  /** When each of these consultations' pending request was made. */
  async pendingOf(consultationIds: readonly string[]): Promise<Map<string, number>> {
    const found = consultationIds.length ? await this.deps.store.callbacksOf(consultationIds) : [];
    return new Map(found.filter((c) => c.doneAt === null).map((c) => [c.consultationId, c.requestedAt]));
  }
}
