/**
 * Data retention: phone numbers and names are deleted RETENTION_DAYS after a consultation ends
 * (or expires). The consultation row, its status and its audit log stay (the audit log never
 * held personal data). Runs at start and then every hour; the clock is injected so tests can
 * move time forward. SMS outbox lines go too: a line's link once it is used, revoked or expired
 * (a live code in clear is a usable link; a spent one is no use to anyone), and every line of a
 * cleared consultation (they hold the number).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CODE_PATTERN, hashCode } from './auth/codes.js';
import { linkRefusal } from './auth/links.js';
import type { Logger } from './log.js';
import type { LinkStore, RetentionStore, StaffSessionStore, StoreLifecycle } from './store/store.js';

const DAY_MS = 24 * 3600 * 1000;
/** How often the purge runs. An hour late is well inside any retention period counted in days. */
export const RETENTION_INTERVAL_MS = 3600 * 1000;

export interface RetentionDeps {
  store: RetentionStore & Pick<LinkStore, 'findLink'> & Pick<StoreLifecycle, 'checkpoint'> & Pick<StaffSessionStore, 'pruneStaffSessions'>;
  now: () => number;
  days: number;
  /** STAFF_SESSION_IDLE: staff sessions idle this long are over, and their rows go. */
  staffIdleSeconds: number;
  logger: Logger;
  /** The outbox provider's file, when it is in use. */
  outboxFile?: string | undefined;
}

export interface RetentionResult {
  /** Consultations whose personal data was deleted by this run. */
  consultations: string[];
  /** SMS outbox lines removed by this run. */
  outboxLines: number;
  /** Staff sign-in sessions past their end, removed by this run. */
  staffSessions: number;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RetentionDeps) {}

  /** Deletes what is due now. Safe to call at any time and any number of times. */
  async runOnce(): Promise<RetentionResult> {
    const { store, now, days, logger } = this.deps;
    const at = now();
    const ids = await store.deletePersonalData(at - days * DAY_MS, at, { retentionDays: days });
    for (const id of ids) logger.info({ consultationId: id, event: 'personal_data_deleted', retentionDays: days }, 'consultation event');
    const outboxLines = await this.trimOutbox();
    // A session past its end is refused anyway (staff/sessions.ts); this only stops the rows piling up.
    const staffSessions = await store.pruneStaffSessions(at, at - this.deps.staffIdleSeconds * 1000);
    if (ids.length > 0) await store.checkpoint();
    if (ids.length > 0 || outboxLines > 0) {
      logger.info({ consultations: ids.length, outboxLines, retentionDays: days }, 'retention: personal data deleted');
    }
    return { consultations: ids, outboxLines, staffSessions };
  }

  start(): void {
    if (this.timer) return;
    this.safeRun();
    this.timer = setInterval(() => this.safeRun(), RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops the hourly run; resolves once a run under way has finished (the store closes next). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private running: Promise<void> | undefined;

  private safeRun(): void {
    const run = this.runOnce().then(() => undefined, (err: unknown) => {
      this.deps.logger.error({ err: (err as Error).message }, 'retention run failed');
    });
    this.running = run;
    void run.finally(() => {
      if (this.running === run) this.running = undefined;
    });
  }

  /**
   * Drops the outbox lines whose link is spent and those of consultations whose personal data is
   * deleted. The file is rewritten (0600) and renamed over the old one, so a reader never sees
   * half a file. It is read again after asking the store, and rewritten with no wait in between,
   * so a line the provider appends meanwhile is kept.
   */
  private async trimOutbox(): Promise<number> {
    const file = this.deps.outboxFile;
    if (!file || !existsSync(file)) return 0;
    const { store, now } = this.deps;
    const at = now();
    const gone = new Set<string>();
    const spent = new Set<string>();
    for (const line of readOutbox(file)) {
      const { consultationId, code } = parseLine(line);
      if (consultationId !== undefined && !gone.has(consultationId) && (await store.personalDataDeleted(consultationId))) gone.add(consultationId);
      const link = code === undefined ? undefined : await store.findLink(hashCode(code));
      if (code !== undefined && link && linkRefusal(link, at) !== undefined) spent.add(code);
    }
    if (gone.size === 0 && spent.size === 0) return 0;
    const lines = readOutbox(file);
    const kept = lines.filter((line) => {
      const { consultationId, code } = parseLine(line);
      return !(consultationId !== undefined && gone.has(consultationId)) && !(code !== undefined && spent.has(code));
    });
    const removed = lines.length - kept.length;
    if (removed === 0) return 0;
    const tmp = `${file}.retention-${process.pid}`;
    writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode: 0o600 });
    renameSync(tmp, file);
    return removed;
  }
}

function readOutbox(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
}

/** The link in an SMS body: `/j/` and a code (CODE_PATTERN without its anchors). */
const LINK_CODE = new RegExp(`/j/(${CODE_PATTERN.slice(1, -1)})(?![A-Za-z0-9_-])`);

/** The consultation a line is about and the code of its link; undefined for what is not ours to judge. */
function parseLine(line: string): { consultationId?: string; code?: string } {
  try {
    const { consultationId, body } = JSON.parse(line) as { consultationId?: unknown; body?: unknown };
    const code = typeof body === 'string' ? LINK_CODE.exec(body)?.[1] : undefined;
    return { ...(typeof consultationId === 'string' ? { consultationId } : {}), ...(code ? { code } : {}) };
  } catch {
    return {};
  }
}
