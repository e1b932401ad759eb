/**
 * Builds the whole service from a validated config without listening, so tests can start a
 * real server on a random port and close it after (design.md 7.8). main.ts adds signals.
 */
import { networkInterfaces } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { TransportListenInfo } from 'mediasoup/node/lib/types.js';
import { type Config, settings } from '../config/settings.js';
import { secretFromConfigOrFile } from './auth/secrets.js';
import { SessionCookies, SessionTokens } from './auth/session.js';
import type { RoomView } from './cluster/cluster.js';
import { openCluster } from './cluster/open.js';
import { connectWhere, joinRegion, timerRegion } from './cluster/region.js';
import { LiveConsultations } from './consultations/live-registry.js';
import { Rooms } from './consultations/rooms.js';
import { Consultations } from './consultations/service.js';
import { Timekeeper } from './consultations/timekeeper.js';
import { Callbacks } from './consultations/callbacks.js';
import { IdentityCheck } from './consultations/identity.js';
import { patientRequestRoutes } from './http/patient-requests.js';
import { tellClinicians } from './signalling/callback.js';
import { accessLog } from './http/access-log.js';
import { adminRoutes } from './http/admin.js';
import { apiRoutes } from './http/api.js';
import { meRoutes } from './http/me.js';
import { reportRoutes } from './http/reports.js';
import { drainGate } from './http/drain.js';
import { errorHandling } from './http/errors.js';
import { healthRoutes } from './http/health.js';
import { linkRoutes } from './http/links.js';
import { metricsRoutes } from './http/metrics.js';
import { pageRoutes } from './http/pages.js';
import { securityHeaders } from './http/security.js';
import { signinRoutes } from './http/signin.js';
import { telemetryRoutes } from './http/telemetry.js';
import { notifyReceiptRoutes } from './http/notify-receipts.js';
import { DeliveryReceipts } from './sms/receipts.js';
import { probeRoutes } from './http/probe.js';
import { Probes } from './media/probe.js';
import { AppError } from './errors.js';
import { createLogger, type Logger } from './log.js';
import { WorkerPool } from './media/pool.js';
import { MediaSessions } from './media/sessions.js';
import { countingMoved, countingSms, createMetrics, watchConsultations, watchMediasoup, watchRegion } from './metrics.js';
import { publicDir } from './paths.js';
import { Retention, type RetentionResult } from './retention.js';
import { Signalling } from './signalling/signalling.js';
import { createSmsProvider } from './sms/index.js';
import type { SmsProvider } from './sms/provider.js';
import { StaffSessions } from './staff/sessions.js';
import { makePrivateDir } from './store/db.js';
import { openStore } from './store/open.js';
import type { Store } from './store/store.js';
import { ApiKeys } from './tenancy/api-keys.js';
import { bootstrap } from './tenancy/bootstrap.js';
import { People } from './tenancy/people.js';

export interface AppOptions {
  logger?: Logger;
  /** Replaces the configured SMS provider (tests of other providers). */
  sms?: SmsProvider;
  now?: () => number;
}

export interface App {
  readonly config: Config;
  readonly http: FastifyInstance;
  readonly consultations: Consultations;
  readonly logger: Logger;
  readonly apiKey: { value: string; file?: string | undefined; generated: boolean };
  /** The store (tests and the operator's commands reach practices and people through it). */
  readonly store: Store;
  readonly people: People;
  readonly keys: ApiKeys;
  readonly staff: StaffSessions;
  /** A link to set up the default practice's first admin, while it has none (main.ts prints it once listening). */
  firstAdminSetupUrl(): string | undefined;
  /** Every route registered, as `METHOD /path` (the isolation test walks them all, so none escapes it). */
  routes(): readonly string[];
  /** Listens on config.host:config.port; resolves to the base URL links use. */
  listen(): Promise<string>;
  /** Process ids of the mediasoup workers (diagnostics and tests). */
  mediaWorkerPids(): number[];
  /** The base URL of links (PUBLIC_URL, or the listening address). */
  publicUrl(): string;
  /** Deletes personal data that is past its retention period now (it also runs every hour). */
  runRetention(): Promise<RetentionResult>;
  /**
   * The first step of stopping: new consultations are refused (503 `unavailable`) and /readyz
   * answers 503, while calls and everything else go on. close() does this first.
   */
  drain(): void;
  /** Drains, tells clients to reconnect, closes media, flushes and closes the database. */
  close(): Promise<void>;
  /** Whether this node is one of a region's (REDIS_URL). */
  readonly multiNode: boolean;
  /**
   * The region mode's stop (SIGTERM): drains, lets the calls here go on for up to DRAIN_GRACE
   * (resolving sooner when none is left), hands any left to other nodes, then closes.
   */
  retire(): Promise<void>;
}

/** The address browsers should send media to when none is configured. */
function defaultAnnouncedAddress(listenIp: string): string | undefined {
  if (listenIp !== '0.0.0.0' && listenIp !== '::') return undefined;
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export async function buildApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const now = opts.now ?? Date.now;
  makePrivateDir(config.dataDir);

  const apiKey = secretFromConfigOrFile(config.apiKey, config.dataDir, 'api-key', settings.apiKey.schema.minLength);
  const sessionSecret = secretFromConfigOrFile(config.sessionSecret, config.dataDir, 'session-secret', settings.sessionSecret.schema.minLength);
  // Cookies are Secure (and __Host- named) when links are https, whatever scheme a proxy forwards.
  const tokens = new SessionTokens(sessionSecret.value, config.sessionTtl, new SessionCookies(config.publicUrl?.startsWith('https:') ?? false));
  const store = await openStore(config, logger);

  const rooms = new Rooms();
  // The region this node belongs to (a single node unless REDIS_URL). The live registry is made
  // once the media workers are up: until then this node holds nothing.
  let held: LiveConsultations | undefined;
  const cluster = await openCluster(config, {
    load: () => held?.size ?? 0, held: () => held?.all().map((l) => l.id) ?? [], logger: logger.child({ component: 'region' }),
  });
  const metrics = createMetrics({
    mediaSessions: () => media.count,
    consultationsByStatus: () => store.countByStatus(),
    participants: async () => (await Promise.all((['created', 'waiting', 'in_call'] as const).map((status) => store.listByStatus(status))))
      .flat()
      .flatMap((c) => rooms.find(c.id)?.list() ?? []),
    workerPids: () => pool.pids,
    now,
    region: {
      nodeId: cluster.nodeId, mode: cluster.multiNode ? 'region' : 'single', live: () => live.size, draining: () => draining, nodes: () => cluster.nodes(),
    },
  });
  watchRegion(cluster, metrics);
  const sms = countingSms(opts.sms ?? createSmsProvider(config, logger.child({ component: 'sms' })), metrics);
  let listeningUrl: string | undefined;
  const publicUrl = () => config.publicUrl ?? listeningUrl ?? `http://localhost:${config.port}`;

  // What became of each invitation text: callbacks and, for texts still in flight, asking the provider.
  const receipts = new DeliveryReceipts({
    store, provider: sms, logger: logger.child({ component: 'sms' }), now, firstCheckMs: config.notifyStatusCheck * 1000,
    audit: (consultationId, status) => store.appendEvent({ consultationId, at: now(), actor: 'system', type: 'sms_delivery', detail: { status } }),
  });
  const consultations = new Consultations({
    store, sms, logger, now, linkTtlSeconds: config.linkTtl, publicUrl,
    inviteLimit: config.inviteLimit, times: config, deliveries: receipts,
  });
  watchConsultations(consultations, store, metrics, now);
  // The patient's identity check and phone-me-instead requests (issue #18).
  const identity = new IdentityCheck({ store, consultations, now });
  const callbacks = new Callbacks({ store, consultations, now });

  // Practices, their people and keys (server/tenancy/), and staff sign-in sessions (server/staff/).
  const people = new People({ store, now, publicUrl, setupLinkTtlSeconds: config.setupLinkTtl });
  const keys = new ApiKeys({ store, now, rotationGraceSeconds: config.keyRotationGrace });
  const staff = new StaffSessions(store, {
    idleSeconds: config.staffSessionIdle, maxSeconds: config.staffSessionMax, secure: tokens.cookies.secure,
  }, now);
  const boot = await bootstrap({
    store, people, now, practiceName: config.practiceName, practiceOdsCode: config.practiceOdsCode, apiKey: apiKey.value,
  });

  const retention = new Retention({
    store, now, days: config.retentionDays, staffIdleSeconds: config.staffSessionIdle, logger: logger.child({ component: 'retention' }),
    outboxFile: config.smsProvider === 'outbox' ? config.smsOutboxFile : undefined,
  });

  // Before the workers exist: mediasoup announces them (and their transports) as they come.
  const unwatchMediasoup = watchMediasoup(metrics, (pid) => pool.pids.includes(pid));
  const pool = await WorkerPool.create({
    size: config.mediaWorkers ?? Math.max(1, os.availableParallelism()),
    rtcMinPort: config.rtcMinPort,
    rtcMaxPort: config.rtcMaxPort,
    logger,
  });
  pool.on('workerDied', () => metrics.workerDeaths.inc());
  const announcedIp = config.announcedAddress ?? defaultAnnouncedAddress(config.rtcListenIp);
  const listenInfos: TransportListenInfo[] = (['udp', 'tcp'] as const).map((protocol) => ({
    protocol, ip: config.rtcListenIp, ...(announcedIp ? { announcedIp } : {}),
  }));
  const media = new MediaSessions(pool, { listenInfos }, { firstPictureFallback: () => metrics.firstPictureFallbacks.inc() });
  // The check step's connection checks: transports of their own, on one router kept for them.
  const probes = new Probes({ createRouter: () => pool.createRouter({ light: true }), listenInfos, now });
  const live = new LiveConsultations({
    consultations, media, rooms, logger: logger.child({ component: 'live' }), now, connectionOf: (id) => probes.kindOf(id),
  });
  held = live;
  const timekeeper = new Timekeeper(store, consultations, config, now, logger.child({ component: 'timers' }), live,
    timerRegion(cluster, live, logger.child({ component: 'timers' })));
  joinRegion({ cluster, consultations, live, timekeeper, logger: logger.child({ component: 'region' }) });
  // What the console shows of rooms: those held here, and the others' as their nodes publish them.
  const roomViews = async (ids: readonly string[]): Promise<Map<string, RoomView>> => {
    const views = new Map<string, RoomView>();
    for (const id of ids) {
      const l = live.find(id);
      if (l) views.set(id, l.view());
    }
    const rest = ids.filter((id) => !views.has(id));
    if (rest.length) for (const [id, v] of await cluster.remoteRooms(rest)) views.set(id, v);
    return views;
  };
  live.on('presence', (change) => void timekeeper.presenceChanged(change).catch((err: unknown) => logger.error({ err }, 'lifecycle timers failed')));

  const http = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Fastify's request lines would log link codes in URLs: http/access-log.ts logs them masked.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: [...config.trustProxy], // TRUST_PROXY: by default a reverse proxy on the same host
    bodyLimit: 16 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  const routes: string[] = [];
  http.addHook('onRoute', (r) => void [r.method].flat().forEach((m) => routes.push(`${m} ${r.url}`)));
  let draining = false;
  await http.register(errorHandling);
  await http.register(drainGate, { draining: () => draining });
  await http.register(accessLog);
  await http.register(securityHeaders);
  await http.register(fastifyCookie);
  // Limits are set per route (links, API); the answer is our usual error shape plus Retry-After.
  const sharedLimits = cluster.rateLimitRedis();
  await http.register(fastifyRateLimit, {
    global: false,
    // Several nodes count together in Redis; if Redis is away, requests are not refused for it.
    ...(sharedLimits ? { redis: sharedLimits as never, nameSpace: 'openconsult-rate:', skipOnError: true } : {}),
    errorResponseBuilder: (_req, ctx) => new AppError('rate_limited', `Too many requests. Try again in ${ctx.after}.`),
  });
  await http.register(fastifyStatic, {
    root: publicDir, prefix: '/assets/', index: false, immutable: false, maxAge: 0, preCompressed: true,
    // Script chunks are named by their content (esbuild's hash), so a browser may keep them for
    // good: a clinician opening the page for each consultation does not ask for 55 KB again.
    setHeaders: (reply, filePath) => {
      if (path.basename(filePath).startsWith('chunk-')) reply.header('cache-control', 'public, max-age=31536000, immutable');
    },
  });
  await http.register(linkRoutes, {
    consultations, tokens, redeemPerMinute: config.rateLimitRedeem, onRedeem: (result) => metrics.linkRedemptions.inc({ result }), identity,
  });
  await http.register(patientRequestRoutes, { identity, callbacks });
  const principals = { keys, staff, practices: store };
  await http.register(apiRoutes, {
    prefix: '/api/v1', consultations, roomViews, store, ...principals, perMinute: config.rateLimitApi, identity, callbacks,
  });
  await http.register(meRoutes, { prefix: '/api/v1', store, ...principals, perMinute: config.rateLimitApi });
  await http.register(adminRoutes, { prefix: '/api/v1/admin', people, store, now, ...principals, perMinute: config.rateLimitApi });
  await http.register(reportRoutes, { prefix: '/api/v1/reports', audit: store, ...principals, perMinute: config.rateLimitApi });
  await http.register(healthRoutes, {
    ready: () => {
      const checks = { mediaWorkers: pool.ready, store: true, accepting: !draining };
      return { ok: Object.values(checks).every(Boolean), checks };
    },
  });
  await http.register(metricsRoutes, { metrics, token: config.metricsToken, allow: config.metricsAllow });
  await http.register(telemetryRoutes, { metrics, tokens });
  // One check is several requests to the transport one node made, and its result is kept on that
  // node: a balancer spreads them over a region's nodes, so a region has no check (the page
  // then shows nothing) until they are routed to one node.
  if (!cluster.multiNode) {
    await http.register(probeRoutes, {
      probes, store, isOpen: (id) => consultations.isOpen(id), turnUrls: config.turnUrls, turnSecret: config.turnSecret, now,
      onKind: (id, participantId, kind) => live.find(id)?.connectionChecked(participantId, kind),
    });
  }
  if (config.notifyCallbackToken) await http.register(notifyReceiptRoutes, { token: config.notifyCallbackToken, receipts, now });
  await http.register(pageRoutes);
  await http.register(signinRoutes, { store, staff, now, publicUrl, secret: sessionSecret.value, secureCookies: tokens.cookies.secure, logger: logger.child({ component: 'signin' }), config });

  const signalling = new Signalling(http.server, {
    live, consultations, tokens, logger: logger.child({ component: 'signalling' }), now, identity,
    turnUrls: config.turnUrls, turnSecret: config.turnSecret, iceTransportPolicy: config.iceTransportPolicy,
    p2pMode: config.p2pMode, metrics,
    publicUrl: config.publicUrl, rate: { burst: config.socketEventBurst, perSecond: config.socketEventRate },
    // A single node holds everything: its handshakes ask nobody where to connect.
    socketOptions: cluster.socketOptions(),
    ...(cluster.multiNode ? { connectWhere: countingMoved((id) => connectWhere(cluster, live, id), metrics) } : {}),
  });
  tellClinicians(signalling.io, callbacks, cluster);

  await timekeeper.start();
  retention.start();
  receipts.start();

  const drain = () => {
    if (!draining) logger.info(cluster.multiNode ? 'draining: new consultations go to other nodes' : 'draining: new consultations are refused');
    draining = true;
    cluster.drain().catch((err: unknown) => logger.warn({ err }, 'the region was not told this node drains'));
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    drain();
    const retentionStopped = retention.stop();
    const receiptsStopped = receipts.stop();
    timekeeper.stop();
    await signalling.close();
    media.closeAll();
    probes.closeAll();
    await http.close();
    await pool.close();
    unwatchMediasoup();
    await cluster.close();
    await retentionStopped;
    await receiptsStopped;
    // Timers and state are already in the store; the checkpoint leaves one self-contained file.
    await store.checkpoint();
    await store.close();
    logger.info('stopped: state flushed');
  };
  return {
    config,
    http,
    consultations,
    logger,
    apiKey,
    store,
    people,
    keys,
    staff,
    routes: () => routes,
    firstAdminSetupUrl: () => (boot.firstAdminSetupCode ? people.setupUrl(boot.firstAdminSetupCode) : undefined),
    publicUrl,
    mediaWorkerPids: () => pool.pids,
    runRetention: () => retention.runOnce(),
    drain,
    async listen() {
      await http.listen({ port: config.port, host: config.host });
      const addr = http.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
      listeningUrl = `http://${host}:${port}`;
      return publicUrl();
    },
    close,
    multiNode: cluster.multiNode,
    async retire() {
      drain();
      // Calls here go on where they are, for up to DRAIN_GRACE; each one that ends brings the exit nearer.
      if (live.size > 0) {
        logger.info({ calls: live.size, graceSeconds: config.drainGrace }, 'draining: waiting for the calls here to end');
        await live.emptied(config.drainGrace * 1000);
      }
      // Those still here move: their placement is let go first, so their pages are placed elsewhere.
      const left = live.all();
      if (left.length) logger.info({ calls: left.length }, 'drain grace over: the calls still here move to other nodes');
      await Promise.all(left.map((l) => cluster.release(l.id).catch(() => undefined)));
      for (const l of left) l.handOver();
      // Whoever does not come back to another node: those calls end after the empty-room grace.
      if (left.length) await timekeeper.adoptOrphans().catch((err: unknown) => logger.error({ err }, 'lifecycle timers failed'));
      await close();
    },
  };
}
