/**
 * pino logger. Personal data must never reach a log line in clear: the fields that can hold it
 * are redacted wherever they appear, and code logs ids, never phone numbers, names or link codes.
 */
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger };

const PERSONAL = ['patientPhone', 'patientName', 'clinicianName', 'phone', 'name', 'to', 'body', 'displayName'];

export const redactPaths = [
  ...PERSONAL,
  ...PERSONAL.map((k) => `*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

export function createLogger(level: LevelWithSilent, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'openconsult' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
