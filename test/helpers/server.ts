/**
 * Starts the real service (real SQLite file, or in the `postgres` project a real PostgreSQL
 * database of its own; real mediasoup worker) on a random loopback port.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { SettingKey } from '../../config/settings.js';
import { type App, type AppOptions, buildApp } from '../../server/app.js';
import { createLogger } from '../../server/log.js';
import { testDatabaseUrl } from './store.js';

export const TEST_API_KEY = 'test-api-key-0123456789abcdef';

export interface TestServer {
  app: App;
  url: string;
  dataDir: string;
  /** Its PostgreSQL database, when it runs on one. */
  databaseUrl?: string;
  api: (method: string, route: string, body?: unknown, key?: string) => Promise<{ status: number; body: any; headers: Headers }>;
  outbox: () => Promise<{ to: string; body: string; sentAt: string; consultationId: string }[]>;
  close: () => Promise<void>;
}

export async function startServer(overrides: Partial<Record<SettingKey, unknown>> = {}, opts: AppOptions = {}): Promise<TestServer> {
  // A data folder of its own, unless the test restarts on an earlier one.
  const dataDir = typeof overrides.dataDir === 'string' ? overrides.dataDir : await mkdtemp(path.join(tmpdir(), 'openconsult-test-'));
  // The data folder names the database: a restart on the same folder finds the same data.
  const databaseUrl = 'databaseUrl' in overrides ? overrides.databaseUrl as string | undefined : await testDatabaseUrl(dataDir);
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0, host: '127.0.0.1', dataDir, apiKey: TEST_API_KEY, logLevel: 'warn',
      rtcListenIp: '127.0.0.1', mediaWorkers: 1,
      // Tests fire many requests from one address; rate limits have tests of their own.
      rateLimitRedeem: 100_000, rateLimitApi: 1_000_000, ...(databaseUrl ? { databaseUrl } : {}),
      // Tests of the SFU stay on it; peer-to-peer (the service's default) has tests of its own (p2p*).
      p2pMode: 'off',
      ...overrides,
    },
  });
  const app = await buildApp(config, { logger: createLogger(config.logLevel), ...opts });
  const url = await app.listen();
  return served(app, url, async () => {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  });
}

/** A listening app as tests use it; `close` stops it (and removes what the test made for it). */
export function served(app: App, url: string, close: () => Promise<void>): TestServer {
  const { dataDir, databaseUrl, smsOutboxFile } = app.config;
  return { app, url, dataDir, databaseUrl, api: apiAt(url), outbox: () => outboxAt(smsOutboxFile), close };
}

/**
 * The HTTP API of the service (or a balancer in front of nodes) at `url`, with the test API key
 * unless another is given. A body that is not JSON (a balancer's own error page) comes as text.
 */
export function apiAt(url: string): TestServer['api'] {
  return async (method, route, body, key = TEST_API_KEY) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

/** The messages in an SMS outbox file (none if it does not exist yet). */
export async function outboxAt(file: string): Promise<{ to: string; body: string; sentAt: string; consultationId: string }[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** The link in an SMS body. */
export function linkIn(body: string): string {
  const m = /(https?:\/\/\S+\/j\/[A-Za-z0-9_-]+)/.exec(body);
  if (!m) throw new Error('no link in SMS');
  return m[1] as string;
}

export function codeOf(link: string): string {
  return link.slice(link.lastIndexOf('/') + 1);
}
