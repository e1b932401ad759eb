/**
 * Several nodes of one region IN THIS PROCESS (buildApp on loopback), sharing one PostgreSQL
 * database and one Redis, for tests of what crosses nodes without separate processes or a load
 * balancer (those are test/helpers/cluster.ts). Each node is a TestServer, so the participants'
 * helpers work on it. They share one data folder too (the SMS outbox), as on a shared volume.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import type { SettingKey } from '../../config/settings.js';
import { type AppOptions, buildApp } from '../../server/app.js';
import { createLogger } from '../../server/log.js';
import { TEST_API_KEY, type TestServer, served } from './server.js';

export interface Region {
  nodes: TestServer[];
  close(): Promise<void>;
}

export async function startRegion(opts: {
  redisUrl: string;
  /** NODE_IDs, one node each. */
  nodeIds: string[];
  /** The region's PostgreSQL database (createDatabase in test/helpers/engines.ts). */
  databaseUrl: string;
  overrides?: Partial<Record<SettingKey, unknown>>;
  /** Per node id: its clock, for one (a clock ahead takes deadlines first). */
  appOptions?: Record<string, AppOptions>;
}): Promise<Region> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'openconsult-region-'));
  const nodes: TestServer[] = [];
  const region: Region = {
    nodes,
    async close() {
      await Promise.all(nodes.map((n) => n.app.close()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    // One after the other: the first start sets up the shared store.
    for (const nodeId of opts.nodeIds) nodes.push(await startNode(opts, nodeId, dataDir));
  } catch (err) {
    await region.close();
    throw err;
  }
  return region;
}

async function startNode(opts: Parameters<typeof startRegion>[0], nodeId: string, dataDir: string): Promise<TestServer> {
  const config = loadConfig({
    env: {},
    overrides: {
      port: 0, host: '127.0.0.1', dataDir, apiKey: TEST_API_KEY, sessionSecret: 'region-session-secret-0123456789abcdef', nodeId,
      logLevel: 'warn', rtcListenIp: '127.0.0.1', mediaWorkers: 1, rateLimitRedeem: 100_000, rateLimitApi: 1_000_000,
      databaseUrl: opts.databaseUrl, redisUrl: opts.redisUrl, ...opts.overrides,
    },
  });
  const app = await buildApp(config, { logger: createLogger(config.logLevel), ...opts.appOptions?.[nodeId] });
  const url = await app.listen();
  // The region closes its nodes (the data folder is shared).
  return served(app, url, () => app.close());
}
