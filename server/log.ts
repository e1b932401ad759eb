/**
 * pino logger. Personal data must never reach a log line in clear: the fields that can hold it
 * are redacted wherever they appear, and code logs ids, never phone numbers, names or link codes.
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import { consultationStatuses } from '../signalling/vocabulary.js';

export type { Logger };

// `label`: a guest's role as the clinician typed it ("Mrs Smith's daughter"), free text like a name.
// Staff e-mails, passwords and one-time codes: sign-in never logs them, and a slip would be redacted.
const PERSONAL = [
  'patientPhone', 'patientName', 'clinicianName', 'phone', 'name', 'to', 'body', 'displayName', 'label',
  'email', 'password', 'totpSecret', 'csrfToken',
];

export const redactPaths = [
  ...PERSONAL,
  ...PERSONAL.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
];

/**
 * `to` is an SMS recipient, except in a status change's audit line (`from`/`to` a consultation
 * status): those words are kept, so each lifecycle line says what the consultation became.
 */
const STATUS_WORDS = new Set<string>(consultationStatuses);
function censor(value: unknown, path: string[]): unknown {
  return path.at(-1) === 'to' && typeof value === 'string' && STATUS_WORDS.has(value) ? value : '[redacted]';
}

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor },
      base: { service: 'openconsult' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
