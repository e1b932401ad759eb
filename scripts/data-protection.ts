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
type Kind = 'personal' | 'staff' | 'pseudonymous' | 'secret' | 'none';

const kindText: Record<Kind, string> = {
  personal: '**personal data**',
  staff: "**staff's personal data** (kept while the account exists)",
  secret: 'a credential (a hash or a secret): no personal data',
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
  'participants.user_id': { kind: 'pseudonymous', holds: 'the signed-in clinician this participant is, if any' },
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
  'events.actor': { kind: 'pseudonymous', holds: 'who acted: a user or key id, a role or the system' },
  'events.type': { kind: 'none', holds: 'what happened (created, admitted, ended, sms_failed, ...)' },
  'events.detail': { kind: 'pseudonymous', holds: 'codes, times and participant identifiers; never numbers, names or link codes' },
  'deadlines.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'deadlines.kind': { kind: 'none', holds: 'which lifecycle timer' },
  'deadlines.participant_id': { kind: 'pseudonymous', holds: 'whose timer, if one person' },
  'deadlines.due_at': { kind: 'none', holds: 'when it fires' },
  'consultations.practice_id': { kind: 'pseudonymous', holds: 'the practice that holds it' },
  'consultations.owner_user_id': { kind: 'pseudonymous', holds: 'the staff member it is for, if any' },
  'events.practice_id': { kind: 'pseudonymous', holds: 'the practice the event belongs to' },
  'practices.id': { kind: 'pseudonymous', holds: 'identifier of the practice' },
  'practices.ods_code': { kind: 'none', holds: "the practice's NHS ODS code" },
  'practices.name': { kind: 'none', holds: 'the practice name used in SMS' },
  'practices.notify_template_id': { kind: 'none', holds: "the practice's own GOV.UK Notify template" },
  'practices.status': { kind: 'none', holds: 'active or suspended' },
  'practices.created_at': { kind: 'none', holds: 'time added' },
  'users.id': { kind: 'pseudonymous', holds: 'random identifier of a staff member' },
  'users.practice_id': { kind: 'pseudonymous', holds: 'their practice' },
  'users.email': { kind: 'staff', holds: "a staff member's work e-mail, to match invitations and sign-ins" },
  'users.display_name': { kind: 'staff', holds: "a staff member's name, shown to patients in calls" },
  'users.roles': { kind: 'none', holds: 'admin, clinician, receptionist' },
  'users.status': { kind: 'none', holds: 'invited, active or disabled' },
  'users.oidc_subject': { kind: 'pseudonymous', holds: "the identity provider's identifier of the person (CIS2 UUID or Entra ID subject)" },
  'users.password_hash': { kind: 'secret', holds: "scrypt hash of a local account's password" },
  'users.totp_secret': { kind: 'secret', holds: "the second factor's shared secret" },
  'users.last_totp_step': { kind: 'none', holds: 'the last one-time code step used (codes work once)' },
  'users.failed_logins': { kind: 'none', holds: 'failed sign-ins in a row' },
  'users.locked_until': { kind: 'none', holds: 'end of a lockout' },
  'users.created_at': { kind: 'none', holds: 'time invited' },
  'users.updated_at': { kind: 'none', holds: 'time of the last change' },
  'setup_links.code_hash': { kind: 'secret', holds: 'hash of a one-time account set-up link' },
  'setup_links.user_id': { kind: 'pseudonymous', holds: 'whose link' },
  'setup_links.created_at': { kind: 'none', holds: 'time issued' },
  'setup_links.expires_at': { kind: 'none', holds: 'time it expires' },
  'setup_links.used_at': { kind: 'none', holds: 'time used' },
  'api_keys.id': { kind: 'pseudonymous', holds: 'identifier of an API key (named in the audit log)' },
  'api_keys.practice_id': { kind: 'pseudonymous', holds: 'its practice' },
  'api_keys.name': { kind: 'none', holds: 'what the practice calls it' },
  'api_keys.key_hash': { kind: 'secret', holds: 'hash of the key (the key itself is shown once, never stored)' },
  'api_keys.created_at': { kind: 'none', holds: 'time created' },
  'api_keys.last_used_at': { kind: 'none', holds: 'time last used' },
  'api_keys.expires_at': { kind: 'none', holds: "end of a rotated key's grace" },
  'api_keys.revoked_at': { kind: 'none', holds: 'time revoked' },
  'staff_sessions.id_hash': { kind: 'secret', holds: "hash of a signed-in browser's session cookie" },
  'staff_sessions.user_id': { kind: 'pseudonymous', holds: 'whose session' },
  'staff_sessions.csrf_token': { kind: 'secret', holds: "the session's request-forgery token" },
  'staff_sessions.created_at': { kind: 'none', holds: 'time signed in' },
  'staff_sessions.last_seen_at': { kind: 'none', holds: 'time of the last request' },
  'staff_sessions.expires_at': { kind: 'none', holds: 'absolute end' },
  'practice_events.seq': { kind: 'none', holds: 'order of the practice audit log' },
  'practice_events.practice_id': { kind: 'pseudonymous', holds: 'the practice' },
  'practice_events.at': { kind: 'none', holds: 'time of the event' },
  'practice_events.actor': { kind: 'none', holds: 'who acted: a user or key id, the operator or the system' },
  'practice_events.type': { kind: 'none', holds: 'what happened (user_invited, api_key_revoked, signin_failed, ...)' },
  'practice_events.detail': { kind: 'pseudonymous', holds: 'codes, times and identifiers; never names or e-mails' },
  // Identity check and phone me instead (issue #18)
  'identity_checks.consultation_id': { kind: 'pseudonymous', holds: 'the consultation' },
  'identity_checks.dob_hash': {
    kind: 'personal',
    holds: "salted scrypt hash of the patient's date of birth, given by the practice for the identity check (optional); deleted after the retention period",
  },
  'identity_checks.status': { kind: 'none', holds: 'pending, confirmed or failed (locked after five wrong dates)' },
  'identity_checks.failures': { kind: 'none', holds: 'wrong dates entered' },
  'identity_checks.updated_at': { kind: 'none', holds: 'time of the last try' },
  'callback_requests.consultation_id': { kind: 'pseudonymous', holds: 'the consultation whose patient asked to be phoned instead' },
  'callback_requests.requested_at': { kind: 'none', holds: 'time asked' },
  'callback_requests.done_at': { kind: 'none', holds: 'time someone at the practice marked it done' },
  // Delivery receipts of the invitation texts (server/sms/receipts.ts): no number, no text.
  'sms_deliveries.notification_id': { kind: 'pseudonymous', holds: "GOV.UK Notify's id for the text" },
  'sms_deliveries.consultation_id': { kind: 'pseudonymous', holds: 'the consultation the text invited to' },
  'sms_deliveries.sent_at': { kind: 'none', holds: 'when the text was sent' },
  'sms_deliveries.status': { kind: 'none', holds: 'what Notify last said of it (delivered, a failure, still sending)' },
  'sms_deliveries.status_at': { kind: 'none', holds: 'when Notify said so' },
  'sms_deliveries.check_at': { kind: 'none', holds: 'when to ask Notify again, if at all' },
  'sms_deliveries.checks': { kind: 'none', holds: 'how many times Notify was asked' },
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
  const staff = Object.entries(columns).filter(([, c]) => c.kind === 'staff').map(([k]) => `\`${k}\``);
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
    `The only personal data stored are ${personal.join(', ')}: what the practice typed to create the consultation or invite a guest. The patient's date of birth, when the practice gives it for the identity check, is kept only as a salted hash (a date of birth has too few possible values for any hash to make it secret from someone holding the database, so it is treated as personal data and purged with the number). No NHS number, address or clinical content is stored.`,
    '',
    `About staff, the service keeps ${staff.join(' and ')}, with their roles and sign-in records, while their account exists (an admin disables it; the operator's \`user\` command too).`,
    '',
    '## How long it is kept',
    '',
    `Phone numbers, names and date-of-birth hashes are deleted ${shownDefault(settings.retentionDays)} days (\`RETENTION_DAYS\`) after a consultation ends or expires, by a purge that runs at start and every hour; the consultation's row, status and audit log stay, with no personal data in them. SMS outbox lines go when their link is used, revoked or expired, and with the rest of their consultation's personal data. Links, waits and calls are bounded by these settings (defaults shown; each can be changed):`,
    '',
    '| Setting | Default | Meaning |',
    '| --- | --- | --- |',
    ...timerRows,
    '',
    '## Who can see it',
    '',
    "- **The practice's staff**, signed in as themselves, and its systems, with the practice's own API keys: that practice's consultations only, with the patient's name and a masked number, until the purge (README: Practices, people and sign-in). Receptionists create and re-send; clinicians also join and end; admins manage people and keys. Another practice on the same service sees none of it.",
    "- **People in the call**: the names shown in it (the clinician's, a guest's label), and the patient's name to the clinician. A patient never sees another patient's data: a link opens one consultation only.",
    "- **The service's operators**: through the service's commands, practices, staff accounts and counts, no patient data; with access to the server itself, the database, the outbox and the logs. Keep backups (`scripts/backup.ts`) under the same access and retention as `DATA_DIR`.",
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
