/**
 * The SQLite database: one file in DATA_DIR, WAL mode, schema migrated forward on open.
 * Everything that must survive a restart (consultations, links, participants, audit) lives here.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { migrations } from './migrations.js';

export type Db = Database.Database;

export { DEFAULT_PRACTICE_ID } from './migrations.js';

/** The database file inside DATA_DIR. */
export const DB_FILE_NAME = 'openconsult.sqlite';

/**
 * DATA_DIR and what it holds (the database, secrets, the SMS outbox) are for the service's user
 * alone. A mode given at creation can only lose bits to the umask, never gain them, so this holds
 * whatever the umask; an existing folder is left as the operator made it.
 */
export function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** The database file and its -wal/-shm (SQLite gives those the database file's mode). */
const DB_FILES = ['', '-wal', '-shm'];

export function openDb(file: string): Db {
  // SQLite would create the file 0644: create it 0600 first (an empty file is an empty database),
  // and take group and others' bits off files an older version left readable.
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const f of DB_FILES.map((suffix) => `${file}${suffix}`)) {
    const st = existsSync(f) ? statSync(f) : undefined;
    if (st && (st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) chmodSync(f, 0o600);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!.sqlite);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
