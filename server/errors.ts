/**
 * Coded errors. Every error a client can see has a stable `code` and an HTTP status; anything
 * else becomes `internal` with a generic message (the detail goes to the log, not the client).
 */
import type { ErrorCode } from '../signalling/vocabulary.js';

export type { ErrorCode };

/** The HTTP status of each code (a code missing here, or one not in the vocabulary, is a type error). */
export const errorStatus = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  link_not_found: 404,
  consultation_not_found: 404,
  participant_not_found: 404,
  link_used: 410,
  link_expired: 410,
  consultation_closed: 410,
  rate_limited: 429,
  invalid_state: 409,
  media_failed: 500,
  sms_failed: 502,
  internal: 500,
  unavailable: 503,
  practice_suspended: 403,
  csrf_failed: 403,
  account_locked: 423,
  // The signalling connection belongs on another node of the region (the page connects there).
  moved: 421,
  // Identity check: not done yet, a wrong date of birth, too many wrong dates.
  identity_required: 403,
  identity_mismatch: 422,
  identity_locked: 423,
} as const satisfies { readonly [C in ErrorCode]: number };

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = errorStatus[code];
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

/** What a client may see of any thrown value. */
export function publicError(err: unknown): ErrorBody {
  if (err instanceof AppError) return err.toBody();
  return { code: 'internal', message: 'Something went wrong on our side. Please try again.' };
}
