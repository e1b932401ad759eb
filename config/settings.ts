/**
 * Every setting the service reads, in one table: its key in a config file, its environment
 * variable, how the variable's text is parsed, its default and what it is for. The loader and
 * the README's settings table are both generated from this table, so they cannot drift apart.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';

/** How an environment variable's text becomes a value. */
export type EnvKind = 'string' | 'integer' | 'duration' | 'list' | 'boolean';

export interface Setting<S extends TSchema = TSchema> {
  readonly schema: S;
  readonly env: string;
  readonly kind: EnvKind;
  readonly doc: string;
  /** Absent means "no default": the setting is optional or derived at load time. */
  readonly default?: Static<S>;
  /** Secrets are never printed, not even in error messages. */
  readonly secret?: boolean;
}

// Generic over the options so that whether a setting has a default survives into `Config`.
function setting<S extends TSchema, O extends Omit<Setting<S>, 'schema'>>(schema: S, s: O): { schema: S } & O {
  return { schema, ...s };
}

const Seconds = (min: number) => Type.Integer({ minimum: min, maximum: 30 * 24 * 3600 });
const Port = Type.Integer({ minimum: 1, maximum: 65535 });
const NonEmpty = Type.String({ minLength: 1 });
/** IPv4 or IPv6 addresses, each optionally with a /prefix (CIDR). */
const AddressList = Type.Array(Type.String({ pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*)(/[0-9]{1,3})?$' }));
const LOOPBACK = ['127.0.0.1', '::1'];

export const settings = {
  port: setting(Type.Integer({ minimum: 0, maximum: 65535 }), {
    env: 'PORT', kind: 'integer', default: 3000, doc: 'HTTP port (0 picks a free one).',
  }),
  host: setting(NonEmpty, {
    env: 'HOST', kind: 'string', default: '0.0.0.0', doc: 'Address the HTTP server listens on.',
  }),
  publicUrl: setting(Type.String({ pattern: '^https?://[^\\s/]+(/[^\\s]*)?$' }), {
    env: 'PUBLIC_URL', kind: 'string',
    doc: 'Base of every link sent to people, as they reach the service (default http://localhost:PORT).',
  }),
  dataDir: setting(NonEmpty, {
    env: 'DATA_DIR', kind: 'string', default: './data',
    doc: 'Folder for the SQLite database, the SMS outbox and generated secrets.',
  }),
  apiKey: setting(Type.String({ minLength: 24 }), {
    env: 'API_KEY', kind: 'string', secret: true,
    doc: 'Practice API key (Bearer token). If unset, one is generated into DATA_DIR/api-key.',
  }),
  sessionSecret: setting(Type.String({ minLength: 32 }), {
    env: 'SESSION_SECRET', kind: 'string', secret: true,
    doc: 'HMAC key for session tokens. If unset, one is generated into DATA_DIR/session-secret.',
  }),
  sessionTtl: setting(Seconds(60), {
    env: 'SESSION_TTL', kind: 'duration',
    doc: 'Upper bound on a browser session. Unset: a session lasts as long as its consultation can (link, wait and call limits).',
  }),
  logLevel: setting(Type.Union([
    Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'),
    Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent'),
  ]), {
    env: 'LOG_LEVEL', kind: 'string', default: 'info' as const, doc: 'pino log level.',
  }),
  smsProvider: setting(Type.Union([Type.Literal('outbox'), Type.Literal('notify')]), {
    env: 'SMS_PROVIDER', kind: 'string', default: 'outbox' as const,
    doc: '`outbox` appends each SMS to SMS_OUTBOX_FILE; `notify` sends through GOV.UK Notify.',
  }),
  smsOutboxFile: setting(NonEmpty, {
    env: 'SMS_OUTBOX_FILE', kind: 'string', doc: 'JSON-lines file of sent SMS (default DATA_DIR/sms-outbox.jsonl).',
  }),
  // GSM-7 basic characters only: one curly apostrophe would make the SMS UCS-2 and two fragments.
  practiceName: setting(Type.String({ minLength: 1, maxLength: 40, pattern: "^[A-Za-z0-9 @£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ!\"#¤%&'()*+,\\-./:;<=>?¡ÄÖÑÜ§¿äöñüà]+$" }), {
    env: 'PRACTICE_NAME', kind: 'string', default: 'Your GP practice', doc: 'Name that starts each SMS (up to 40 plain characters: no curly quotes).',
  }),
  notifyApiKey: setting(NonEmpty, {
    env: 'NOTIFY_API_KEY', kind: 'string', secret: true, doc: 'GOV.UK Notify API key (notify provider).',
  }),
  notifyTemplateId: setting(NonEmpty, {
    env: 'NOTIFY_TEMPLATE_ID', kind: 'string', doc: 'GOV.UK Notify SMS template id (notify provider).',
  }),
  notifyBaseUrl: setting(Type.String({ pattern: '^https?://' }), {
    env: 'NOTIFY_BASE_URL', kind: 'string', default: 'https://api.notifications.service.gov.uk',
    doc: 'GOV.UK Notify API base URL.',
  }),
  rateLimitRedeem: setting(Type.Integer({ minimum: 1, maximum: 100000 }), {
    env: 'RATE_LIMIT_REDEEM', kind: 'integer', default: 30,
    doc: 'Refused link redemptions (unknown, malformed, used or expired codes) allowed per minute from one address, then 429 with Retry-After; valid redemptions never count (many phones share one address).',
  }),
  rateLimitApi: setting(Type.Integer({ minimum: 1, maximum: 1000000 }), {
    env: 'RATE_LIMIT_API', kind: 'integer', default: 600,
    doc: 'Practice API requests allowed per minute for one API key (then 429 with Retry-After).',
  }),
  turnUrls: setting(Type.Array(Type.String({ pattern: '^turns?:' })), {
    env: 'TURN_URLS', kind: 'list', default: [], doc: 'Comma-separated TURN URLs given to browsers.',
  }),
  iceTransportPolicy: setting(Type.Union([Type.Literal('all'), Type.Literal('relay')]), {
    env: 'ICE_TRANSPORT_POLICY', kind: 'string', default: 'all' as const,
    doc: '`relay` makes browsers send all media through TURN (networks that must not see peer addresses).',
  }),
  turnSecret: setting(NonEmpty, {
    env: 'TURN_SECRET', kind: 'string', secret: true,
    doc: 'coturn static-auth-secret, for ephemeral TURN credentials.',
  }),
  rtcListenIp: setting(NonEmpty, {
    env: 'RTC_LISTEN_IP', kind: 'string', default: '0.0.0.0', doc: 'Address mediasoup binds media sockets to.',
  }),
  rtcMinPort: setting(Port, {
    env: 'RTC_MIN_PORT', kind: 'integer', default: 40000, doc: 'Lowest UDP/TCP port for media.',
  }),
  rtcMaxPort: setting(Port, {
    env: 'RTC_MAX_PORT', kind: 'integer', default: 49999, doc: 'Highest UDP/TCP port for media.',
  }),
  announcedAddress: setting(NonEmpty, {
    env: 'ANNOUNCED_ADDRESS', kind: 'string',
    doc: 'Address browsers send media to (the VM\'s public or NAT address). Default: the first non-internal IPv4.',
  }),
  mediaWorkers: setting(Type.Integer({ minimum: 1, maximum: 64 }), {
    env: 'MEDIA_WORKERS', kind: 'integer', doc: 'Number of mediasoup workers (default: one per CPU core).',
  }),
  linkTtl: setting(Seconds(1), {
    env: 'LINK_TTL', kind: 'duration', default: 24 * 3600, doc: 'How long an unused link stays valid.',
  }),
  waitingTimeout: setting(Seconds(1), {
    env: 'WAITING_TIMEOUT', kind: 'duration', default: 30 * 60, doc: 'Longest a patient waits before the consultation expires.',
  }),
  maxCallDuration: setting(Seconds(1), {
    env: 'MAX_CALL_DURATION', kind: 'duration', default: 90 * 60, doc: 'Longest a call may run.',
  }),
  emptyRoomGrace: setting(Seconds(0), {
    env: 'EMPTY_ROOM_GRACE', kind: 'duration', default: 5 * 60, doc: 'How long a call with nobody in it lives on.',
  }),
  reconnectGrace: setting(Seconds(0), {
    env: 'RECONNECT_GRACE', kind: 'duration', default: 60, doc: 'How long a dropped participant is "reconnecting" before counted gone.',
  }),
  retentionDays: setting(Type.Integer({ minimum: 1, maximum: 3650 }), {
    env: 'RETENTION_DAYS', kind: 'integer', default: 30,
    doc: 'Days after a consultation ends (or expires) before its phone numbers and names are deleted; the audit log stays.',
  }),
  metricsToken: setting(Type.String({ minLength: 16 }), {
    env: 'METRICS_TOKEN', kind: 'string', secret: true,
    doc: 'If set, GET /metrics needs `Authorization: Bearer <token>` from every address.',
  }),
  trustProxy: setting(AddressList, {
    env: 'TRUST_PROXY', kind: 'list', default: [...LOOPBACK],
    doc: 'Comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (empty: none). The client address it yields is what rate limits and METRICS_ALLOW judge.',
  }),
  metricsAllow: setting(AddressList, {
    env: 'METRICS_ALLOW', kind: 'list', default: [...LOOPBACK],
    doc: 'Comma-separated client addresses or CIDRs that may read GET /metrics without a token while METRICS_TOKEN is unset (empty: nobody).',
  }),
  socketEventBurst: setting(Type.Integer({ minimum: 10, maximum: 1000000 }), {
    env: 'SOCKET_EVENT_BURST', kind: 'integer', default: 60,
    doc: 'Socket events one connection may send at once (a token bucket; beyond it: `rate_limited`, the connection stays).',
  }),
  socketEventRate: setting(Type.Integer({ minimum: 1, maximum: 1000000 }), {
    env: 'SOCKET_EVENT_RATE', kind: 'integer', default: 10,
    doc: 'Socket events per second returned to each connection\'s bucket.',
  }),
  inviteLimit: setting(Type.Integer({ minimum: 0, maximum: 100 }), {
    env: 'INVITE_LIMIT', kind: 'integer', default: 5,
    doc: 'Guests that may be invited to one consultation (each invitation may send an SMS).',
  }),
  practiceOdsCode: setting(Type.String({ pattern: '^[A-Z0-9]{3,10}$' }), {
    env: 'PRACTICE_ODS_CODE', kind: 'string',
    doc: 'The default practice\'s ODS code (e.g. A81001), as the S97 report and the `practice` command name it (unset: `DEFAULT`).',
  }),
  staffSessionIdle: setting(Seconds(60), {
    env: 'STAFF_SESSION_IDLE', kind: 'duration', default: 30 * 60,
    doc: 'A staff member\'s sign-in ends after this long without a request (an open console keeps it alive).',
  }),
  staffSessionMax: setting(Seconds(300), {
    env: 'STAFF_SESSION_MAX', kind: 'duration', default: 12 * 3600,
    doc: 'A staff member\'s sign-in ends this long after it began, however busy.',
  }),
  loginMaxFailures: setting(Type.Integer({ minimum: 1, maximum: 100 }), {
    env: 'LOGIN_MAX_FAILURES', kind: 'integer', default: 5,
    doc: 'Failed local sign-ins (password or code) in a row before the account locks for LOGIN_LOCKOUT.',
  }),
  loginLockout: setting(Seconds(1), {
    env: 'LOGIN_LOCKOUT', kind: 'duration', default: 15 * 60,
    doc: 'How long a local account stays locked after LOGIN_MAX_FAILURES failures.',
  }),
  setupLinkTtl: setting(Seconds(60), {
    env: 'SETUP_LINK_TTL', kind: 'duration', default: 72 * 3600,
    doc: 'How long the one-time link that sets up an invited person\'s account stays valid.',
  }),
  keyRotationGrace: setting(Seconds(0), {
    env: 'KEY_ROTATION_GRACE', kind: 'duration', default: 24 * 3600,
    doc: 'How long a rotated API key keeps working beside its replacement, so the practice system can switch over.',
  }),
  oidcIssuer: setting(Type.String({ pattern: '^https?://' }), {
    env: 'OIDC_ISSUER', kind: 'string',
    doc: 'OpenID Connect issuer for staff sign-in (NHS CIS2 or Microsoft Entra ID); unset: local accounts with TOTP only.',
  }),
  oidcClientId: setting(NonEmpty, {
    env: 'OIDC_CLIENT_ID', kind: 'string', doc: 'The client id this deployment is registered with at OIDC_ISSUER.',
  }),
  oidcClientSecret: setting(NonEmpty, {
    env: 'OIDC_CLIENT_SECRET', kind: 'string', secret: true, doc: 'The client secret registered at OIDC_ISSUER.',
  }),
  oidcName: setting(Type.String({ minLength: 1, maxLength: 40 }), {
    env: 'OIDC_NAME', kind: 'string', default: 'your organisation\'s account',
    doc: 'What the sign-in button calls the identity provider ("Sign in with NHS CIS2").',
  }),
  oidcScopes: setting(NonEmpty, {
    env: 'OIDC_SCOPES', kind: 'string', default: 'openid email profile',
    doc: 'Scopes asked of OIDC_ISSUER (CIS2 also wants e.g. `nationalrbacaccess`).',
  }),
  localSignin: setting(Type.Boolean(), {
    env: 'LOCAL_SIGNIN', kind: 'boolean', default: true,
    doc: 'Whether local accounts (password and TOTP) may sign in; turn off once everyone uses OIDC_ISSUER.',
  }),
  // The region mode (design.md 2.3): several nodes on shared engines. Unset: one process on SQLite.
  databaseUrl: setting(Type.String({ pattern: '^postgres(ql)?://' }), {
    env: 'DATABASE_URL', kind: 'string', secret: true,
    doc: 'PostgreSQL connection URL (`postgres://user:password@host:5432/db`): the store of every node of a region. Unset: SQLite in DATA_DIR.',
  }),
  redisUrl: setting(Type.String({ pattern: '^rediss?://' }), {
    env: 'REDIS_URL', kind: 'string', secret: true,
    doc: 'Redis URL (`redis://host:6379`): nodes share signalling, placement, load and rate limits through it. Needs DATABASE_URL, SESSION_SECRET and API_KEY the same on every node.',
  }),
  nodeId: setting(Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }), {
    env: 'NODE_ID', kind: 'string',
    doc: 'This node\'s name in the region (lower case letters, digits, `-`); pages reach it at `/node/NODE_ID/` through the load balancer. Default: the host name.',
  }),
  nodeTimeout: setting(Type.Integer({ minimum: 2, maximum: 60 }), {
    env: 'NODE_TIMEOUT', kind: 'duration', default: 3,
    doc: 'A node not heard from for this long is lost: its calls are placed on another node (it reports every third of this).',
  }),
  drainGrace: setting(Seconds(0), {
    env: 'DRAIN_GRACE', kind: 'duration', default: 15 * 60,
    doc: 'After SIGTERM in the region mode, how long calls in progress may go on on this node before they move to another; the node exits once it holds none.',
  }),
  // Delivery receipts of the invitation texts (server/sms/receipts.ts).
  notifyCallbackToken: setting(Type.String({ minLength: 10 }), {
    env: 'NOTIFY_CALLBACK_TOKEN', kind: 'string', secret: true,
    doc: 'The bearer token given to GOV.UK Notify for its delivery-receipt callbacks to POST /notify/receipts (at least 10 characters, as Notify asks). Unset: no callback route; the service asks Notify instead.',
  }),
  notifyStatusCheck: setting(Type.Integer({ minimum: 1, maximum: 3600 }), {
    env: 'NOTIFY_STATUS_CHECK', kind: 'duration', default: 60,
    doc: 'How long after sending a text the service first asks GOV.UK Notify whether it was delivered; each later question waits twice as long (at most an hour), none after a day.',
  }),
  p2pMode: setting(Type.Union([Type.Literal('off'), Type.Literal('prefer'), Type.Literal('relay')]), {
    env: 'P2P_MODE', kind: 'string', default: 'prefer' as const,
    doc: 'Media between two people: `prefer` moves it to a direct browser-to-browser connection once that flows (the SFU stays ready), `relay` does so only through TURN (neither side learns the other\'s address; needs TURN_URLS and TURN_SECRET), `off` keeps every call on the SFU.',
  }),
} as const;

export type SettingKey = keyof typeof settings;

/** The validated configuration: every setting with a default is present, the rest may be absent. */
export type Config = Readonly<{
  [K in SettingKey]: (typeof settings)[K] extends { default: unknown }
    ? Static<(typeof settings)[K]['schema']>
    : Static<(typeof settings)[K]['schema']> | undefined;
}> & {
  /** Resolved at load time from DATA_DIR when unset. */
  readonly smsOutboxFile: string;
  /** Resolved at load time from the host name when unset. */
  readonly nodeId: string;
};
