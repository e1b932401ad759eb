/**
 * A local stand-in for GOV.UK Notify's API v2 send-SMS endpoint, as its documentation describes
 * it: `POST /v2/notifications/sms`, a Bearer JWT (HS256, `iss` = service id, signed with the
 * API key's secret part, `iat` within 30 seconds), a JSON body, 201 with the documented body on
 * success and `{status_code, errors: [{error, message}]}` on failure.
 *
 * Each test scripts the answers (a queue; an empty queue answers 201) and reads back every
 * request received, with the time it arrived.
 *
 * Delivery: `GET /v2/notifications/{id}` answers each sent text with its status (`created` until
 * a test sets another with `deliver`), and `sendReceipt` POSTs Notify's delivery-receipt
 * callback, `Authorization: Bearer <callback token>`, as Notify does when a service has one.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import jwt from 'jsonwebtoken';

/** A made-up API key in Notify's format: `{key name}-{service id}-{secret}`. */
export function notifyApiKey(name = 'openconsult_test'): { apiKey: string; serviceId: string; secret: string } {
  const serviceId = randomUUID();
  const secret = randomUUID();
  return { apiKey: `${name}-${serviceId}-${secret}`, serviceId, secret };
}

export type Scripted =
  /** Answer with this status and Notify's error body for it. */
  | { status: number; error: string; message: string }
  /** Answer 201 with the documented success body. */
  | { status: 201 }
  /** Read the whole request, then drop the connection without a word. */
  | { hangUp: true }
  /** Read the whole request and never answer. */
  | { silent: true };

export const notifyErrors = {
  validation: { status: 400, error: 'ValidationError', message: 'phone_number Not a UK mobile number' },
  trialMode: {
    status: 400, error: 'BadRequestError',
    message: "Can't send to this recipient when service is in trial mode - see https://www.notifications.service.gov.uk/trial-mode",
  },
  auth: { status: 403, error: 'AuthError', message: 'Invalid token: API key not found' },
  rateLimit: { status: 429, error: 'RateLimitError', message: 'Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds' },
  dailyLimit: { status: 429, error: 'TooManyRequestsError', message: 'Exceeded send limits (250000) for today' },
  internal: { status: 500, error: 'Exception', message: 'Internal server error' },
  unavailable: { status: 503, error: 'Exception', message: 'Service Unavailable' },
} as const satisfies Record<string, Scripted>;

export interface ReceivedRequest {
  /** performance.now() when the whole request had arrived. */
  at: number;
  method: string;
  path: string;
  /** The JWT's `iss`, when the token verified. */
  iss: string | undefined;
  userAgent: string | undefined;
  body: {
    phone_number?: unknown;
    template_id?: unknown;
    personalisation?: Record<string, unknown>;
    reference?: unknown;
  };
}

export interface FakeNotify {
  url: string;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** Queues answers for the next requests, in order. */
  script: (...answers: Scripted[]) => void;
  /** The ids of the texts taken, in order. */
  readonly sent: string[];
  /** Sets what the status API says of a text (`delivered`, `permanent-failure`, ...). */
  deliver: (id: string, status: string) => void;
  /** Answers the status API with 500 until `false`. */
  statusFailing: (failing: boolean) => void;
  close: () => Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, error: string, message: string): void {
  sendJson(res, status, { status_code: status, errors: [{ error, message }] });
}

/** Verifies the Bearer JWT as Notify does; returns its `iss` or undefined. */
function verifiedIssuer(header: string | undefined, serviceId: string, secret: string): string | undefined {
  const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
  if (!token) return undefined;
  try {
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'] });
    if (typeof claims === 'string' || claims.iss !== serviceId || typeof claims.iat !== 'number') return undefined;
    if (Math.abs(Date.now() / 1000 - claims.iat) > 30) return undefined;
    return claims.iss;
  } catch {
    return undefined;
  }
}

/** Listens on a free loopback port and returns it. */
async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
  return address.port;
}

export async function startFakeNotify(key: { serviceId: string; secret: string }): Promise<FakeNotify> {
  const requests: ReceivedRequest[] = [];
  const queue: Scripted[] = [];
  const sent: string[] = [];
  const statuses = new Map<string, { status: string; reference: string | null; createdAt: string }>();
  let failing = false;
  let url = '';

  const server: Server = createServer(async (req, res) => {
    const text = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    let body: ReceivedRequest['body'] = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === 'object' && parsed !== null) body = parsed;
    } catch {
      // left empty: answered below as Notify answers a body it cannot read
    }
    const iss = verifiedIssuer(req.headers.authorization, key.serviceId, key.secret);
    requests.push({ at: performance.now(), method: req.method ?? '', path, iss, userAgent: req.headers['user-agent'], body });

    const asked = /^\/v2\/notifications\/([0-9a-f-]{36})$/.exec(path);
    if (req.method === 'GET' && asked) {
      if (!iss) {
        sendError(res, 403, 'AuthError', 'Invalid token: API key not found');
        return;
      }
      if (failing) {
        sendError(res, 500, 'Exception', 'Internal server error');
        return;
      }
      const n = statuses.get(asked[1] as string);
      if (!n) {
        sendError(res, 404, 'NoResultFound', 'No result found');
        return;
      }
      sendJson(res, 200, {
        id: asked[1], reference: n.reference, phone_number: '07700900123', type: 'sms', status: n.status,
        template: { id: randomUUID(), version: 1, uri: `${url}/templates` }, body: '', created_at: n.createdAt,
        created_by_name: null, sent_at: n.createdAt, completed_at: n.status === 'delivered' ? new Date().toISOString() : null,
      });
      return;
    }
    if (req.method !== 'POST' || path !== '/v2/notifications/sms') {
      sendJson(res, 404, { result: 'error', message: 'The requested URL was not found on the server.' });
      return;
    }
    if (!iss) {
      sendError(res, 403, 'AuthError', 'Invalid token: API key not found');
      return;
    }
    const answer = queue.shift() ?? { status: 201 };
    if ('hangUp' in answer) {
      req.socket.destroy();
      return;
    }
    if ('silent' in answer) return;
    if ('error' in answer) {
      sendError(res, answer.status, answer.error, answer.message);
      return;
    }
    if (typeof body.phone_number !== 'string') {
      sendError(res, 400, 'ValidationError', 'phone_number is a required property');
      return;
    }
    if (typeof body.template_id !== 'string') {
      sendError(res, 400, 'ValidationError', 'template_id is a required property');
      return;
    }
    const id = randomUUID();
    sent.push(id);
    statuses.set(id, { status: 'created', reference: typeof body.reference === 'string' ? body.reference : null, createdAt: new Date().toISOString() });
    const rendered = body.personalisation?.['body'];
    sendJson(res, 201, {
      id,
      reference: typeof body.reference === 'string' ? body.reference : null,
      content: { body: typeof rendered === 'string' ? rendered : '', from_number: 'GOVUK' },
      uri: `${url}/v2/notifications/${id}`,
      template: { id: body.template_id, version: 1, uri: `${url}/services/${key.serviceId}/templates/${body.template_id}` },
    });
  });

  url = `http://127.0.0.1:${await listen(server)}`;

  return {
    url,
    requests,
    script: (...answers) => queue.push(...answers),
    sent,
    deliver: (id, status) => {
      const n = statuses.get(id);
      if (!n) throw new Error(`no text ${id}`);
      n.status = status;
    },
    statusFailing: (f) => { failing = f; },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** A loopback URL where nothing listens: connections to it are refused. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  const port = await listen(server);
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return `http://127.0.0.1:${port}`;
}

/**
 * Notify's delivery-receipt callback for text `id`, POSTed to `target` with `token` (undefined:
 * no Authorization header) as Notify sends it. Resolves to the answer's status and body.
 */
export async function sendReceipt(
  target: string, token: string | undefined, id: string, status: string, extra: Record<string, unknown> = {},
): Promise<{ status: number; body: string }> {
  const now = new Date().toISOString();
  const res = await fetch(target, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({
      id, reference: null, to: '07700900123', status, created_at: now, completed_at: now, sent_at: now, notification_type: 'sms', ...extra,
    }),
  });
  return { status: res.status, body: await res.text() };
}
