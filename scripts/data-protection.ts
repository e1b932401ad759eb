/**
 * docs/data-protection.md, the data protection summary for a deploying organisation's DPIA:
 * what the service stores where, which of it is personal data, how long it is kept and who can
 * see it. Generated from config/settings.ts (retention and timers) and from the schema the store
 * really migrates to (server/store/db.ts, opened on a scratch file), so it cannot drift:
 * `npx tsx scripts/data-protection.ts --write` rewrites it; a unit test fails when they differ,
 * and this script fails on a column nobody has classified here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SettingKey, settings } from '../config/settings.js';
import { DB_FILE_NAME, openDb } from '../server/store/db.js';
import { shownDefault } from './settings-table.js';

/** What a column holds, as a DPIA sees it. */
type Kind = 'personal' | 'pseudonymous' | 'none';

const kindText: Record<Kind, string> = {
  personal: '**personal data**',
  pseudonymous: 'pseudonymous (no meaning outside the service)',
  none: 'no personal data',
};

/** Every column of the store, classified. A new column fails the script until it is listed here. */
export const columns: Record<string, { kind: Kind; holds: string }> = {
  'consultations.id': { kind: 'pseudonymous', holds: 'random identifier of the consultation' },
  'consultations.status': { kind: 'none', holds: 'where the consultation is in its lifecycle' },
  'consultations.created_at': { kind: 'none', holds: 'time created' },
  'consultations.updated_at': { kind: 'none', holds: 'time of the last change' },
  'consultations.expires_at': { kind: 'none', holds: "time the patient's link expires" },
  'consultations.ended_reason': { kind: 'none', holds: 'why it ended (a code)' },
  'consultations.patient_phone': { kind: 'personal', holds: "patient's mobile number, to send the link; deleted after the retention period" },
  'consultations.patient_name': { kind: 'personal', holds: "patient's name as the practice typed it (optional); deleted after the retention period" },
  'consultations.clinician_name': { kind: 'personal', holds: "clinician's name shown in the call (optional); deleted after the retention period" },
  'consultations.sms_status': { kind: 'none', holds: 'whether the SMS was sent, failed or is unknown' },
  'consultations.personal_data_deleted_at': { kind: 'none', holds: 'when the retention purge cleared the personal data' },
  'participants.id': { kind: 'pseudonymous', holds: 'random identifier of a person in the consultation' },
  'participants.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'participants.role': { kind: 'none', holds: 'patient, clinician or guest' },
  'participants.display_name': { kind: 'personal', holds: "a guest's name or label (optional); deleted after the retention period" },
  'participants.created_at': { kind: 'none', holds: 'time invited' },
  'participants.admitted_at': { kind: 'none', holds: 'time admitted from the waiting room' },
  'participants.session_epoch': { kind: 'none', holds: 'counter that revokes earlier browser sessions' },
  'links.code_hash': { kind: 'pseudonymous', holds: 'hash of the one-time link code (the code itself is never stored)' },
  'links.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'links.participant_id': { kind: 'pseudonymous', holds: 'whose link it is' },
  'links.created_at': { kind: 'none', holds: 'time issued' },
  'links.expires_at': { kind: 'none', holds: 'time it expires' },
  'links.redeemed_at': { kind: 'none', holds: 'time used' },
  'links.revoked_at': { kind: 'none', holds: 'time revoked (re-sent or removed)' },
  'events.seq': { kind: 'none', holds: 'order of the audit log' },
  'events.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'events.at': { kind: 'none', holds: 'time of the event' },
  'events.actor': { kind: 'none', holds: 'who acted: a role or the system' },
  'events.type': { kind: 'none', holds: 'what happened (created, admitted, ended, sms_failed, ...)' },
  'events.detail': { kind: 'pseudonymous', holds: 'codes, times and participant identifiers; never numbers, names or link codes' },
  'deadlines.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'deadlines.kind': { kind: 'none', holds: 'which lifecycle timer' },
  'deadlines.participant_id': { kind: 'pseudonymous', holds: 'whose timer, if one person' },
  'deadlines.due_at': { kind: 'none', holds: 'when it fires' },
};

/** The settings that bound how long anything is kept or valid. */
const timers: readonly SettingKey[] = ['linkTtl', 'waitingTimeout', 'maxCallDuration', 'emptyRoomGrace', 'reconnectGrace', 'sessionTtl', 'retentionDays'];

/** Tables and their columns, in schema order, as the store's migrations leave them. */
export function schemaColumns(): { table: string; columns: string[] }[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-schema-'));
  try {
    const db = openDb(path.join(dir, DB_FILE_NAME));
    try {
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all();
      return tables.map(({ name }) => ({
        table: name,
        columns: db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`).all().map((c) => c.name),
      }));
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function dataProtectionSummary(): string {
  const schema = schemaColumns();
  const seen = new Set(schema.flatMap((t) => t.columns.map((c) => `${t.table}.${c}`)));
  const unclassified = [...seen].filter((c) => !columns[c]);
  const gone = Object.keys(columns).filter((c) => !seen.has(c));
  if (unclassified.length > 0 || gone.length > 0) {
    throw new Error(`scripts/data-protection.ts: classify ${unclassified.join(', ') || '(none)'}; drop ${gone.join(', ') || '(none)'}`);
  }
  const personal = Object.entries(columns).filter(([, c]) => c.kind === 'personal').map(([k]) => `\`${k}\``);
  const tables = schema.flatMap(({ table, columns: cols }) => [
    `### \`${table}\``, '', '| Column | Personal data | Holds |', '| --- | --- | --- |',
    ...cols.map((c) => {
      const col = columns[`${table}.${c}`] as { kind: Kind; holds: string };
      return `| \`${c}\` | ${kindText[col.kind]} | ${col.holds} |`;
    }),
    '',
  ]);
  const timerRows = timers.map((key) => {
    const s = settings[key];
    return `| \`${s.env}\` | ${shownDefault(s) || '(unset)'} | ${s.doc} |`;
  });
  return [
    '# Data protection summary',
    '',
    '<!-- Generated by scripts/data-protection.ts from config/settings.ts and server/store/db.ts: do not edit by hand. -->',
    '',
    "For the deploying organisation's data protection impact assessment (DPIA). It describes the",
    'software; the deploying organisation adds its own hosting, access and contract arrangements.',
    '',
    '## What is stored where',
    '',
    `- **The database**: one SQLite file, \`DATA_DIR/${DB_FILE_NAME}\` (with its \`-wal\` and \`-shm\` files), readable by the service's user only (mode 0600, folder 0700). Its tables are listed below.`,
    '- **The SMS outbox** (`SMS_PROVIDER=outbox` only, for testing and small set-ups): `SMS_OUTBOX_FILE`, one line per text message with the phone number and the message, which holds the link. With `notify`, GOV.UK Notify receives the number and the message and keeps them under its own retention.',
    '- **Secrets**: `DATA_DIR/api-key` and `DATA_DIR/session-secret` when not set in the configuration. No personal data.',
    '- **Logs** (standard output): consultation and participant identifiers, events and errors; never phone numbers, names, dates of birth or link codes.',
    '- **Metrics** (`/metrics`): counts and durations only.',
    '- **Audio and video** pass through the media server in memory and are never recorded. In-call messages are relayed and never stored.',
    '',
    '## Personal data',
    '',
    `The only personal data stored are ${personal.join(', ')}: what the practice typed to create the consultation or invite a guest. No date of birth, NHS number, address or clinical content is stored.`,
    '',
    '## How long it is kept',
    '',
    `Phone numbers and names are deleted ${shownDefault(settings.retentionDays)} days (\`RETENTION_DAYS\`) after a consultation ends or expires, by a purge that runs at start and every hour; the consultation's row, status and audit log stay, with no personal data in them. SMS outbox lines go when their link is used, revoked or expired, and with the rest of their consultation's personal data. Links, waits and calls are bounded by these settings (defaults shown; each can be changed):`,
    '',
    '| Setting | Default | Meaning |',
    '| --- | --- | --- |',
    ...timerRows,
    '',
    '## Who can see it',
    '',
    "- **Practice staff** with the practice's API key (its systems, or the console): the practice's consultations, with the patient's number and name, until the purge.",
    "- **People in the call**: the names shown in it (the clinician's, a guest's label), and the patient's name to the clinician. A patient never sees another patient's data: a link opens one consultation only.",
    "- **The service's operators**, with access to the server: the database, the outbox and the logs. Keep backups (`scripts/backup.ts`) under the same access and retention as `DATA_DIR`.",
    '',
    '## The database, column by column',
    '',
    ...tables,
  ].join('\n').trimEnd() + '\n';
}

export const summaryPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'data-protection.md');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--write')) writeFileSync(summaryPath, dataProtectionSummary());
  else process.stdout.write(dataProtectionSummary());
}
