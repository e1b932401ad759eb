/**
 * The SQLite database: one file in DATA_DIR, WAL mode, schema migrated forward on open.
 * Everything that must survive a restart (consultations, links, participants, audit) lives here.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** The practice a one-practice database (before version 5) becomes, and the one `API_KEY` belongs to. */
export const DEFAULT_PRACTICE_ID = 'default';

// Append-only: each entry moves the schema one version forward.
const migrations: readonly string[] = [
  `
  CREATE TABLE consultations (
    id             TEXT PRIMARY KEY,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    ended_reason   TEXT,
    patient_phone  TEXT,
    patient_name   TEXT,
    clinician_name TEXT
  );
  CREATE TABLE participants (
    id              TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    role            TEXT NOT NULL,
    display_name    TEXT,
    created_at      INTEGER NOT NULL
  );
  CREATE INDEX participants_consultation ON participants(consultation_id);
  CREATE TABLE links (
    code_hash       TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    participant_id  TEXT NOT NULL REFERENCES participants(id),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    redeemed_at     INTEGER,
    revoked_at      INTEGER
  );
  CREATE INDEX links_participant ON links(participant_id);
  CREATE TABLE events (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id TEXT NOT NULL,
    at              INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    type            TEXT NOT NULL,
    detail          TEXT
  );
  CREATE INDEX events_consultation ON events(consultation_id, seq);
  `,
  // 2: durable lifecycle timers; admission and SMS outcome survive restarts.
  `
  CREATE TABLE deadlines (
    consultation_id TEXT NOT NULL,
    kind            TEXT NOT NULL,
    participant_id  TEXT NOT NULL DEFAULT '',
    due_at          INTEGER NOT NULL,
    PRIMARY KEY (consultation_id, kind, participant_id)
  );
  CREATE INDEX deadlines_due ON deadlines(due_at);
  ALTER TABLE participants ADD COLUMN admitted_at INTEGER;
  ALTER TABLE consultations ADD COLUMN sms_status TEXT;
  CREATE INDEX consultations_status ON consultations(status);
  CREATE INDEX consultations_created ON consultations(created_at);
  `,
  // 3: data retention. Personal data (phone numbers, names) is deleted some days after a
  // consultation ends; the row, its status and the audit log stay.
  `
  ALTER TABLE consultations ADD COLUMN personal_data_deleted_at INTEGER;
  CREATE INDEX consultations_retention ON consultations(status, updated_at) WHERE personal_data_deleted_at IS NULL;
  `,
  // 4: revocable sessions. Each session token names the epoch it was issued in; re-sending a
  // link or removing someone bumps it, so every earlier session of theirs stops working.
  `
  ALTER TABLE participants ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: many practices, and the people in them. A database from one-practice days becomes the
  // default practice's: its consultations and audit events are the default practice's, and its
  // name, ODS code and API key are filled in from config at start (server/tenancy/bootstrap.ts).
  `
  CREATE TABLE practices (
    id                 TEXT PRIMARY KEY,
    ods_code           TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    notify_template_id TEXT,
    status             TEXT NOT NULL,
    created_at         INTEGER NOT NULL
  );
  INSERT INTO practices (id, ods_code, name, status, created_at)
    VALUES ('${DEFAULT_PRACTICE_ID}', 'DEFAULT', 'GP practice', 'active', CAST(unixepoch('subsec') * 1000 AS INTEGER));
  ALTER TABLE consultations ADD COLUMN practice_id TEXT NOT NULL DEFAULT '${DEFAULT_PRACTICE_ID}';
  ALTER TABLE consultations ADD COLUMN owner_user_id TEXT;
  CREATE INDEX consultations_practice ON consultations(practice_id, created_at);
  ALTER TABLE participants ADD COLUMN user_id TEXT;
  ALTER TABLE events ADD COLUMN practice_id TEXT NOT NULL DEFAULT '${DEFAULT_PRACTICE_ID}';
  CREATE INDEX events_practice ON events(practice_id, at);
  CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL REFERENCES practices(id),
    email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL,
    roles           TEXT NOT NULL,
    status          TEXT NOT NULL,
    oidc_subject    TEXT UNIQUE,
    password_hash   TEXT,
    totp_secret     TEXT,
    last_totp_step  INTEGER,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
  );
  CREATE INDEX users_practice ON users(practice_id);
  CREATE TABLE setup_links (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
  );
  CREATE INDEX setup_links_user ON setup_links(user_id);
  CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at   INTEGER,
    revoked_at   INTEGER
  );
  CREATE INDEX api_keys_practice ON api_keys(practice_id);
  CREATE TABLE staff_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
  );
  CREATE INDEX staff_sessions_user ON staff_sessions(user_id);
  CREATE TABLE practice_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    practice_id TEXT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    type        TEXT NOT NULL,
    detail      TEXT
  );
  CREATE INDEX practice_events_practice ON practice_events(practice_id, seq);
  `,
];

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
      db.exec(migrations[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
