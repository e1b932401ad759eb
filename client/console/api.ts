/**
 * The practice API as the console uses it (server/http/api.ts): who is signed in, list today's
 * consultations, create one, join one, re-send the patient's link, end one. Calls carry the staff
 * session cookie (same origin) and, when they change something, the session's CSRF token; every
 * failure becomes an ApiError with the service's code and plain-English message.
 */
import type {
  ClinicianLinkReply, ConsultationList, ConsultationSummary, CreateBody, CreatedReply, ErrorReply, ResendReply,
} from '../../server/http/schemas.js';
import type { MeReply } from '../../server/http/admin-schemas.js';
import { type EndReason, consultationStatuses, isOneOf, smsStatuses } from '../../signalling/vocabulary.js';
import { identityStates, smsDeliveries } from '../../signalling/vocabulary.js';

// The answers' shapes are the service's own schemas (types only: nothing of the server is bundled).
export type { ConsultationSummary, MeReply };

export class ApiError extends Error {
  constructor(
    /** HTTP status; 0 when the service could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 10_000;

const isString = (v: unknown): v is string => typeof v === 'string';
const isStringOrNull = (v: unknown): v is string | null => v === null || typeof v === 'string';

/** Checks the fields the console relies on; a line that does not fit is left out, not guessed at. */
function parseSummary(x: unknown): ConsultationSummary | null {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  if (!isString(o.id) || !isOneOf(consultationStatuses, o.status)) return null;
  if (!isString(o.createdAt) || !isString(o.expiresAt)) return null;
  if (!isStringOrNull(o.patientName) || !isStringOrNull(o.patientPhone) || !isStringOrNull(o.waitingSince)) return null;
  return {
    id: o.id,
    status: o.status,
    sms: isOneOf(smsStatuses, o.sms) ? o.sms : null,
    patientName: o.patientName,
    patientPhone: o.patientPhone,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    endedReason: isString(o.endedReason) ? (o.endedReason as EndReason) : null,
    waitingSince: o.waitingSince,
    inCall: typeof o.inCall === 'number' ? o.inCall : 0,
    identity: isOneOf(identityStates, o.identity) ? o.identity : 'not_required',
    callbackRequestedAt: isString(o.callbackRequestedAt) ? o.callbackRequestedAt : null,
    smsDelivery: parseDelivery(o.smsDelivery),
  };
}

/** What became of the patient's text; null when the answer says nothing we can read. */
function parseDelivery(x: unknown): ConsultationSummary['smsDelivery'] {
  if (typeof x !== 'object' || x === null) return null;
  const o = x as Record<string, unknown>;
  return isOneOf(smsDeliveries, o.status) && isString(o.at) ? { status: o.status, at: o.at } : null;
}

/** Where a page sends someone whose sign-in is missing or over, to come back to `next` after. */
export function signInUrl(next: string): string {
  return `/signin?next=${encodeURIComponent(next)}`;
}

/** Same-origin JSON requests with the staff session's cookie, and its CSRF token on POST, PUT and DELETE. */
export class Requester {
  constructor(private readonly csrfToken: string | null) {}

  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        credentials: 'same-origin',
        cache: 'no-store',
        signal: abort.signal,
        headers: {
          accept: 'application/json',
          ...(method !== 'GET' && this.csrfToken ? { 'x-csrf-token': this.csrfToken } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError(0, 'network', 'We could not reach the video consultation service. Check your connection.');
    } finally {
      clearTimeout(timer);
    }
    const answer: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const error = (answer as { error?: Partial<Record<keyof ErrorReply['error'], unknown>> } | undefined)?.error;
      throw new ApiError(
        res.status,
        isString(error?.code) ? error.code : 'unknown',
        isString(error?.message) ? error.message : 'Something went wrong. Please try again.',
      );
    }
    return answer ?? {};
  }

  /** Who is signed in (GET /api/v1/me); an ApiError with status 401 when nobody is. */
  static async me(): Promise<MeReply> {
    const body = (await new Requester(null).call('GET', '/api/v1/me')) as Partial<MeReply>;
    if (!body.practice || !Array.isArray(body.rights)) throw badAnswer();
    return body as MeReply;
  }

  /** Ends the session (the sign-in pages' route); whatever it answers, the page then goes to sign in. */
  async signOut(): Promise<void> {
    await this.call('POST', '/auth/signout').catch(() => undefined);
  }
}

const badAnswer = () => new ApiError(500, 'bad_answer', 'The service sent an answer we did not understand.');

/** Which consultations the list shows: the signed-in clinician's own, or the practice's. */
export type Owner = 'me' | 'everyone';

export class ConsoleApi {
  constructor(private readonly http: Requester) {}

  /** Consultations created since `since` (the console passes the local midnight), newest first. */
  async list(since: Date, owner: Owner): Promise<ConsultationSummary[]> {
    const mine = owner === 'me' ? '&owner=me' : '';
    const body = await this.http.call('GET', `/api/v1/consultations?since=${encodeURIComponent(since.toISOString())}${mine}`);
    const lines = (body as Partial<Record<keyof ConsultationList, unknown>>).consultations;
    if (!Array.isArray(lines)) throw badAnswer();
    return lines.map(parseSummary).filter((c): c is ConsultationSummary => c !== null);
  }

  async create(input: CreateBody): Promise<CreatedReply> {
    const body = (await this.http.call('POST', '/api/v1/consultations', input)) as Partial<CreatedReply>;
    if (!isString(body.id) || !isString(body.clinicianUrl) || !isOneOf(smsStatuses, body.sms)) throw badAnswer();
    return body as CreatedReply;
  }

  async resend(id: string): Promise<Pick<ResendReply, 'sms' | 'expiresAt'>> {
    const body = (await this.http.call('POST', `/api/v1/consultations/${encodeURIComponent(id)}/resend`)) as Partial<Record<keyof ResendReply, unknown>>;
    return { sms: isOneOf(smsStatuses, body.sms) ? body.sms : 'failed', expiresAt: isString(body.expiresAt) ? body.expiresAt : '' };
  }

  /** The signed-in clinician joins: a fresh clinician link, with their name shown to the patient. */
  async join(id: string): Promise<string> {
    const body = (await this.http.call('POST', `/api/v1/consultations/${encodeURIComponent(id)}/join`)) as Partial<Record<keyof ClinicianLinkReply, unknown>>;
    if (!isString(body.clinicianUrl)) throw badAnswer();
    return body.clinicianUrl;
  }

  async end(id: string): Promise<void> {
    await this.http.call('POST', `/api/v1/consultations/${encodeURIComponent(id)}/end`);
  }

  /** Someone phoned the patient who asked to be phoned instead. */
  async callbackDone(id: string): Promise<void> {
    await this.http.call('POST', `/api/v1/consultations/${encodeURIComponent(id)}/callback/done`);
  }
}
