/**
 * Data retention: phone numbers and names are deleted RETENTION_DAYS after a consultation ends
 * (or expires). The consultation row, its status and its audit log stay (the audit log never
 * held personal data). Runs at start and then every hour; the clock is injected so tests can
 * move time forward. SMS outbox lines of cleared consultations go too: they hold the number.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Logger } from './log.js';
import type { RetentionStore, StoreLifecycle } from './store/store.js';

const DAY_MS = 24 * 3600 * 1000;
/** How often the purge runs. An hour late is well inside any retention period counted in days. */
export const RETENTION_INTERVAL_MS = 3600 * 1000;

export interface RetentionDeps {
  store: RetentionStore & Pick<StoreLifecycle, 'checkpoint'>;
  now: () => number;
  days: number;
  logger: Logger;
  /** The outbox provider's file, when it is in use. */
  outboxFile?: string | undefined;
}

export interface RetentionResult {
  /** Consultations whose personal data was deleted by this run. */
  consultations: string[];
  /** SMS outbox lines removed by this run. */
  outboxLines: number;
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
    if (ids.length > 0) await store.checkpoint();
    if (ids.length > 0 || outboxLines > 0) {
      logger.info({ consultations: ids.length, outboxLines, retentionDays: days }, 'retention: personal data deleted');
    }
    return { consultations: ids, outboxLines };
  }

  start(): void {
    if (this.timer) return;
    this.safeRun();
    this.timer = setInterval(() => this.safeRun(), RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private safeRun(): void {
    this.runOnce().catch((err: unknown) => {
      this.deps.logger.error({ err: (err as Error).message }, 'retention run failed');
    });
  }

  /**
   * Drops the outbox lines of consultations whose personal data is deleted. The file is
   * rewritten (0600) and renamed over the old one, so a reader never sees half a file. It is
   * read again after asking the store, and rewritten with no wait in between, so a line the
   * provider appends meanwhile is kept.
   */
  private async trimOutbox(): Promise<number> {
    const file = this.deps.outboxFile;
    if (!file || !existsSync(file)) return 0;
    const gone = new Set<string>();
    for (const id of new Set(readOutbox(file).map(consultationOf))) {
      if (id !== undefined && (await this.deps.store.personalDataDeleted(id))) gone.add(id);
    }
    if (gone.size === 0) return 0;
    const lines = readOutbox(file);
    const kept = lines.filter((line) => {
      const id = consultationOf(line);
      return id === undefined || !gone.has(id);
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

/** The consultation a line is about; undefined for a line that is not ours to judge. */
function consultationOf(line: string): string | undefined {
  try {
    const id = (JSON.parse(line) as { consultationId?: unknown }).consultationId;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
