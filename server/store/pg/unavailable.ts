/**
 * Which PostgreSQL failures mean "the database is not there just now" (down, restarting, failing
 * over, out of connections) rather than "this request is wrong": those become the coded
 * `unavailable` (503 with Retry-After), so callers retry instead of seeing a 500.
 */
import { AppError } from '../../errors.js';

/** Socket errors, and SQLSTATEs: 57P01-03 admin/crash shutdown or starting up, 53300 too many connections. */
const CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  '57P01', '57P02', '57P03', '53300']);
/** What node-postgres says when the connection went away under it, or could not be made in time. */
const MESSAGES = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection ended|Query read timeout/i;

export function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  // Class 08: connection exceptions.
  if (typeof code === 'string' && (CODES.has(code) || code.startsWith('08'))) return true;
  return err instanceof Error && MESSAGES.test(err.message);
}

export const unavailable = () => new AppError('unavailable', 'The service is briefly unavailable. Try again in a few seconds.');
