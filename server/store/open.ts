/**
 * Opens the configured store: PostgreSQL when DATABASE_URL is set (the region mode, shared by
 * every node), otherwise the SQLite file in DATA_DIR (one process, nothing else to run). Both are
 * migrated forward before this resolves.
 */
import path from 'node:path';
import type { Config } from '../../config/settings.js';
import type { Logger } from '../log.js';
import { DB_FILE_NAME, openDb } from './db.js';
import { SqliteStore } from './sqlite/store.js';
import type { Store } from './store.js';

export type StoreKind = 'sqlite' | 'postgres';

export function storeKind(config: Pick<Config, 'databaseUrl'>): StoreKind {
  return config.databaseUrl ? 'postgres' : 'sqlite';
}

export async function openStore(config: Pick<Config, 'databaseUrl' | 'dataDir'>, logger: Logger): Promise<Store> {
  if (config.databaseUrl) {
    // Loaded only in the region mode: the embedded default never touches pg.
    const { PgStore } = await import('./pg/store.js');
    return PgStore.open(config.databaseUrl, logger.child({ component: 'store' }));
  }
  return new SqliteStore(openDb(path.join(config.dataDir, DB_FILE_NAME)));
}
