/**
 * The `notify` provider: sends each SMS through GOV.UK Notify with its official client.
 *
 * The template gets `practice_name`, `link` and `body` (the whole text), so a template of just
 * ((body)) sends exactly what the outbox would write, and a practice may word its own.
 *
 * Only failures where Notify did not take the message are retried (429 rate limit, 5xx), with
 * exponential backoff and jitter: Notify's documentation says to resend on those. Anything it
 * refused for good (400, 403, the daily limit) is not retried. A request that got no answer at
 * all (reset, timeout) is never retried either: Notify may have taken it, and a patient who gets
 * two links cannot tell which one works. Errors carry a message a receptionist can read, and
 * neither they nor the log lines hold the phone number or the text.
 */
import { NotifyClient } from 'notifications-node-client';
import { AppError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SentSms, Sms, SmsProvider } from './provider.js';
import { type BackoffPolicy, RetriesExhaustedError, defaultSleep, retry } from './retry.js';

export const NOTIFY_PRODUCTION_URL = 'https://api.notifications.service.gov.uk';

export const DEFAULT_NOTIFY_RETRY: BackoffPolicy = { attempts: 3, baseDelayMs: 500, maxDelayMs: 5_000 };

/**
 * - `permanent`: Notify refused the message; sending it again unchanged would fail again.
 * - `retries_exhausted`: Notify was busy or failing (429/5xx) on every try; nothing was sent.
 * - `unknown_outcome`: no answer after the request went out; it may have been sent.
 * - `unreachable`: no connection to Notify could be made; nothing was sent.
 */
export type NotifyErrorKind = 'permanent' | 'retries_exhausted' | 'unknown_outcome' | 'unreachable';

/**
 * An `sms_failed` AppError whose message is safe to show at reception. `notifyStatus` is
 * Notify's HTTP status (absent when there was no answer); `status` stays the API's own (502).
 */
export class NotifyError extends AppError {
  constructor(
    readonly kind: NotifyErrorKind,
    readonly notifyStatus: number | undefined,
    /** Notify's error type, e.g. `ValidationError`, or a network code such as `ECONNRESET`. */
    readonly notifyErrorCode: string | undefined,
    message: string,
    /** Notify's own message with digit runs masked, for operators' logs, never for clients. */
    readonly detail?: string,
    readonly attempts = 1,
  ) {
    super('sms_failed', message);
  }
}

export interface NotifySmsOptions {
  /** `{key_name}-{service id}-{secret}`, as Notify's API integration page shows it. */
  apiKey: string;
  templateId: string;
  baseUrl?: string;
  logger?: Logger;
  retry?: Partial<BackoffPolicy>;
  /** Each request's limit; past it the outcome is unknown. The client itself has none. */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const API_KEY_RE = new RegExp(`^.+-${UUID}-${UUID}$`, 'i');
const TEMPLATE_ID_RE = new RegExp(`^${UUID}$`, 'i');

/** Whether `id` is a GOV.UK Notify template id (a UUID). */
export const isTemplateId = (id: string): boolean => TEMPLATE_ID_RE.test(id);

/** Connection failures that happen before a byte of the request leaves: nothing was sent. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'CERT_HAS_EXPIRED', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const REFUSED = 'The text message could not be sent:';

/** What a failed call to the client amounts to. */
type Failure =
  | { type: 'answered'; status: number; error: string | undefined; message: string | undefined }
  | { type: 'no_answer'; code: string | undefined; sent: boolean };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function stringField(v: unknown, key: string): string | undefined {
  if (!isRecord(v)) return undefined;
  const f = v[key];
  return typeof f === 'string' ? f : undefined;
}

/** Reads the client's axios-style error; anything else is treated as "no answer, maybe sent". */
function describe(err: unknown): Failure {
  const response = isRecord(err) ? err['response'] : undefined;
  if (isRecord(response) && typeof response['status'] === 'number') {
    const data = response['data'];
    const errors = isRecord(data) ? data['errors'] : undefined;
    const first: unknown = Array.isArray(errors) ? errors[0] : undefined;
    return { type: 'answered', status: response['status'], error: stringField(first, 'error'), message: stringField(first, 'message') };
  }
  const code = stringField(err, 'code') ?? stringField(isRecord(err) ? err['cause'] : undefined, 'code');
  return { type: 'no_answer', code, sent: !(code !== undefined && NOT_SENT_CODES.has(code)) };
}

/** Rate limit (not the daily limit) and server errors: Notify did not take the message. */
function isRetryable(err: unknown): boolean {
  const f = describe(err);
  if (f.type !== 'answered') return false;
  if (f.status === 429) return f.error !== 'TooManyRequestsError';
  return f.status >= 500 && f.status <= 599;
}

/** Notify's messages name fields, not values; masking digit runs makes sure of it. */
function mask(text: string | undefined): string | undefined {
  return text?.replace(/\+?\d[\d\s()-]{5,}\d/g, '[digits]');
}

function refusalMessage(status: number, error: string | undefined, message: string | undefined): string {
  const m = message ?? '';
  if (status === 400 && error === 'ValidationError' && m.startsWith('phone_number')) {
    return `${REFUSED} the phone number was refused. Check that it is a UK mobile number.`;
  }
  if (status === 400 && error === 'BadRequestError' && /trial mode|team-only/i.test(m)) {
    return `${REFUSED} the SMS service only sends to the practice's own team for now (trial mode or a team API key). Ask your administrator.`;
  }
  if (status === 403) {
    return /clock/i.test(m)
      ? `${REFUSED} the SMS service refused our request because this server's clock is wrong. Ask your administrator.`
      : `${REFUSED} the SMS service refused our API key. Ask your administrator.`;
  }
  if (status === 429) return `${REFUSED} the practice has reached today's text message limit.`;
  return `${REFUSED} the SMS service refused the request (status ${status}). Ask your administrator to check the SMS settings.`;
}

export class NotifySms implements SmsProvider {
  readonly name = 'notify';
  private readonly client: NotifyClient;
  private readonly templateId: string;
  private readonly policy: BackoffPolicy;
  private readonly logger: Logger | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(opts: NotifySmsOptions) {
    // Messages name the setting, never its value: the key is a secret.
    if (!API_KEY_RE.test(opts.apiKey)) {
      throw new Error('NOTIFY_API_KEY is not a GOV.UK Notify API key (expected {key name}-{service id}-{secret id})');
    }
    if (!TEMPLATE_ID_RE.test(opts.templateId)) throw new Error('NOTIFY_TEMPLATE_ID is not a template id (a UUID)');
    const baseUrl = (opts.baseUrl ?? NOTIFY_PRODUCTION_URL).replace(/\/+$/, '');
    // The client's two-argument form reads its first argument as a base URL only when it starts
    // with "http"; anything else it takes for a service id and quietly sends to production.
    if (!/^https?:\/\/[^/]/.test(baseUrl)) throw new Error('NOTIFY_BASE_URL must be an http(s) URL');

    this.client = new NotifyClient(baseUrl, opts.apiKey);
    const timeoutMs = opts.timeoutMs ?? 10_000;
    // The client calls axios with no timeout, so a silent peer would hold the request forever.
    // setClient() is its hook for the HTTP client; this keeps the client's own axios and adds one.
    const inner: (config: Record<string, unknown>) => Promise<unknown> = this.client.apiClient.restClient;
    const withTimeout = (config: Record<string, unknown>) => inner({ ...config, timeout: timeoutMs });
    this.client.setClient(withTimeout as unknown as Parameters<NotifyClient['setClient']>[0]);

    this.templateId = opts.templateId;
    this.policy = { ...DEFAULT_NOTIFY_RETRY, ...opts.retry };
    this.logger = opts.logger;
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  async send(sms: Sms): Promise<SentSms> {
    const log = this.logger?.child({ component: 'sms', provider: 'notify', consultationId: sms.consultationId });
    let attempts = 0;
    try {
      const res = await retry(
        (attempt) => {
          attempts = attempt;
          return this.client.sendSms(sms.templateId ?? this.templateId, sms.to, {
            personalisation: { ...sms.personalisation, body: sms.body },
            reference: sms.consultationId,
          });
        },
        {
          policy: this.policy,
          isRetryable,
          sleep: this.sleep,
          random: this.random,
          onRetry: ({ attempt, delayMs, error }) => {
            const f = describe(error);
            log?.warn({ attempt, delayMs, status: f.type === 'answered' ? f.status : undefined, notifyError: f.type === 'answered' ? f.error : undefined }, 'Notify busy; retrying');
          },
        },
      );
      const notificationId = stringField(res.data, 'id');
      log?.info({ notificationId, attempts }, 'SMS accepted by Notify');
      return { notificationId };
    } catch (err) {
      const e = this.toNotifyError(err, attempts);
      log?.warn({ kind: e.kind, status: e.notifyStatus, notifyError: e.notifyErrorCode, detail: e.detail, attempts }, 'SMS not sent through Notify');
      throw e;
    }
  }

  /** `GET /v2/notifications/{id}`: Notify's status word for the text. Errors are the client's own (the caller asks again later). */
  async deliveryOf(notificationId: string): Promise<string> {
    const res = await this.client.getNotificationById(notificationId);
    const status = stringField(res.data, 'status');
    if (status === undefined) throw new Error('Notify answered without a status');
    return status;
  }

  private toNotifyError(err: unknown, attempts: number): NotifyError {
    if (err instanceof RetriesExhaustedError) {
      const f = describe(err.lastError);
      const answered = f.type === 'answered' ? f : undefined;
      return new NotifyError(
        'retries_exhausted', answered?.status, answered?.error,
        `${REFUSED} the SMS service is busy or unavailable; we tried ${err.attempts} times. Try again in a few minutes.`,
        mask(answered?.message), err.attempts,
      );
    }
    const f = describe(err);
    if (f.type === 'answered') {
      return new NotifyError('permanent', f.status, f.error, refusalMessage(f.status, f.error, f.message), mask(f.message), attempts);
    }
    const detail = mask(err instanceof Error ? err.message : undefined);
    if (!f.sent) {
      return new NotifyError('unreachable', undefined, f.code,
        `${REFUSED} we could not reach the SMS service. Ask your administrator to check the network.`, detail, attempts);
    }
    return new NotifyError('unknown_outcome', undefined, f.code,
      'The SMS service did not confirm the text message: it may or may not have been sent. Check with the patient before sending it again.',
      detail, attempts);
  }
}
