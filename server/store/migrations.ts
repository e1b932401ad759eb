/**
 * One migration set for both stores: each version moves the schema one step forward, written once
 * for SQLite and once for PostgreSQL with the same tables, columns, indexes and meaning. Append
 * only. PostgreSQL differs only where the engines do: BIGINT epoch-ms timestamps, identity columns
 * for seq, an `ord` identity column where SQLite orders by rowid, a unique index on lower(email)
 * for SQLite's COLLATE NOCASE, and the audit detail kept as JSON text as SQLite keeps it.
 */

/** The practice a one-practice database (before version 5) becomes, and the one `API_KEY` belongs to. */
export const DEFAULT_PRACTICE_ID = 'default';

export interface Migration {
  sqlite: string;
  postgres: string;
}

export const migrations: readonly Migration[] = [
  {
    sqlite: `
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
    postgres: `
  CREATE TABLE consultations (
    id             TEXT PRIMARY KEY,
    status         TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
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
    created_at      BIGINT NOT NULL,
    ord             BIGINT GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX participants_consultation ON participants(consultation_id);
  CREATE TABLE links (
    code_hash       TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    participant_id  TEXT NOT NULL REFERENCES participants(id),
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    redeemed_at     BIGINT,
    revoked_at      BIGINT
  );
  CREATE INDEX links_participant ON links(participant_id);
  CREATE TABLE events (
    seq             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultation_id TEXT NOT NULL,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    type            TEXT NOT NULL,
    detail          TEXT
  );
  CREATE INDEX events_consultation ON events(consultation_id, seq);
  `,
  },
  // 2: durable lifecycle timers; admission and SMS outcome survive restarts.
  {
    sqlite: `
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
    postgres: `
  CREATE TABLE deadlines (
    consultation_id TEXT NOT NULL,
    kind            TEXT NOT NULL,
    participant_id  TEXT NOT NULL DEFAULT '',
    due_at          BIGINT NOT NULL,
    PRIMARY KEY (consultation_id, kind, participant_id)
  );
  CREATE INDEX deadlines_due ON deadlines(due_at);
  ALTER TABLE participants ADD COLUMN admitted_at BIGINT;
  ALTER TABLE consultations ADD COLUMN sms_status TEXT;
  CREATE INDEX consultations_status ON consultations(status);
  CREATE INDEX consultations_created ON consultations(created_at);
  `,
  },
  // 3: data retention. Personal data (phone numbers, names) is deleted some days after a
  // consultation ends; the row, its status and the audit log stay.
  {
    sqlite: `
  ALTER TABLE consultations ADD COLUMN personal_data_deleted_at INTEGER;
  CREATE INDEX consultations_retention ON consultations(status, updated_at) WHERE personal_data_deleted_at IS NULL;
  `,
    postgres: `
  ALTER TABLE consultations ADD COLUMN personal_data_deleted_at BIGINT;
  CREATE INDEX consultations_retention ON consultations(status, updated_at) WHERE personal_data_deleted_at IS NULL;
  `,
  },
  // 4: revocable sessions. Each session token names the epoch it was issued in; re-sending a
  // link or removing someone bumps it, so every earlier session of theirs stops working.
  {
    sqlite: `
  ALTER TABLE participants ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
  `,
    postgres: `
  ALTER TABLE participants ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;
  `,
  },
  // 5: many practices, and the people in them. A database from one-practice days becomes the
  // default practice's: its consultations and audit events are the default practice's, and its
  // name, ODS code and API key are filled in from config at start (server/tenancy/bootstrap.ts).
  {
    sqlite: `
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
    postgres: `
  CREATE TABLE practices (
    id                 TEXT PRIMARY KEY,
    ods_code           TEXT NOT NULL UNIQUE,
    name               TEXT NOT NULL,
    notify_template_id TEXT,
    status             TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    ord                BIGINT GENERATED ALWAYS AS IDENTITY
  );
  INSERT INTO practices (id, ods_code, name, status, created_at)
    VALUES ('${DEFAULT_PRACTICE_ID}', 'DEFAULT', 'GP practice', 'active', (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT);
  ALTER TABLE consultations ADD COLUMN practice_id TEXT NOT NULL DEFAULT '${DEFAULT_PRACTICE_ID}';
  ALTER TABLE consultations ADD COLUMN owner_user_id TEXT;
  CREATE INDEX consultations_practice ON consultations(practice_id, created_at);
  ALTER TABLE participants ADD COLUMN user_id TEXT;
  ALTER TABLE events ADD COLUMN practice_id TEXT NOT NULL DEFAULT '${DEFAULT_PRACTICE_ID}';
  CREATE INDEX events_practice ON events(practice_id, at);
  CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    practice_id     TEXT NOT NULL REFERENCES practices(id),
    email           TEXT NOT NULL,
    display_name    TEXT NOT NULL,
    roles           TEXT NOT NULL,
    status          TEXT NOT NULL,
    oidc_subject    TEXT UNIQUE,
    password_hash   TEXT,
    totp_secret     TEXT,
    last_totp_step  BIGINT,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    ord             BIGINT GENERATED ALWAYS AS IDENTITY
  );
  CREATE UNIQUE INDEX users_email ON users(lower(email));
  CREATE INDEX users_practice ON users(practice_id);
  CREATE TABLE setup_links (
    code_hash  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
  );
  CREATE INDEX setup_links_user ON setup_links(user_id);
  CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    practice_id  TEXT NOT NULL REFERENCES practices(id),
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at   BIGINT,
    revoked_at   BIGINT,
    ord          BIGINT GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX api_keys_practice ON api_keys(practice_id);
  CREATE TABLE staff_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
  );
  CREATE INDEX staff_sessions_user ON staff_sessions(user_id);
  CREATE TABLE practice_events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    practice_id TEXT,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    type        TEXT NOT NULL,
    detail      TEXT
  );
  CREATE INDEX practice_events_practice ON practice_events(practice_id, seq);
  `,
  },
  // The patient's identity check (a salted hash of their date of birth, its wrong tries) and
  // their requests to be phoned instead of a video call: one row each per consultation.
  {
    sqlite: `
  CREATE TABLE identity_checks (
    consultation_id TEXT PRIMARY KEY REFERENCES consultations(id),
    dob_hash        TEXT,
    status          TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    updated_at      INTEGER NOT NULL
  );
  CREATE TABLE callback_requests (
    consultation_id TEXT PRIMARY KEY REFERENCES consultations(id),
    requested_at    INTEGER NOT NULL,
    done_at         INTEGER
  );
  `,
    postgres: `
  CREATE TABLE identity_checks (
    consultation_id TEXT PRIMARY KEY REFERENCES consultations(id),
    dob_hash        TEXT,
    status          TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    updated_at      BIGINT NOT NULL
  );
  CREATE TABLE callback_requests (
    consultation_id TEXT PRIMARY KEY REFERENCES consultations(id),
    requested_at    BIGINT NOT NULL,
    done_at         BIGINT
  );
  `,
  },
  // What became of each invitation text the provider gave an id for (server/sms/receipts.ts):
  // no phone number, no text. `check_at`: when to ask the provider next (null: not any more).
  {
    sqlite: `
  CREATE TABLE sms_deliveries (
    notification_id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    sent_at         INTEGER NOT NULL,
    status          TEXT NOT NULL,
    status_at       INTEGER NOT NULL,
    check_at        INTEGER,
    checks          INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sms_deliveries_consultation ON sms_deliveries(consultation_id, sent_at);
  CREATE INDEX sms_deliveries_check ON sms_deliveries(check_at) WHERE check_at IS NOT NULL;
  `,
    postgres: `
  CREATE TABLE sms_deliveries (
    notification_id TEXT PRIMARY KEY,
    consultation_id TEXT NOT NULL REFERENCES consultations(id),
    sent_at         BIGINT NOT NULL,
    status          TEXT NOT NULL,
    status_at       BIGINT NOT NULL,
    check_at        BIGINT,
    checks          INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX sms_deliveries_consultation ON sms_deliveries(consultation_id, sent_at);
  CREATE INDEX sms_deliveries_check ON sms_deliveries(check_at) WHERE check_at IS NOT NULL;
  `,
  },
];
