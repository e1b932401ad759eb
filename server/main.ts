/**
 * Entry point: load config (fail fast, naming the bad key), start, and shut down gracefully on
 * SIGTERM/SIGINT: clients are told, media closes, the database is closed cleanly.
 */
import { ConfigError, describeConfig, loadConfig } from '../config/load.js';
import { buildApp } from './app.js';
import { createLogger } from './log.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`openconsult: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  logger.info({ config: describeConfig(config) }, 'starting');
  const app = await buildApp(config, { logger });
  const url = await app.listen();
  if (app.apiKey.file) {
    logger.info({ apiKeyFile: app.apiKey.file }, `practice API key ${app.apiKey.generated ? 'generated' : 'read'}: see ${app.apiKey.file}`);
  }
  logger.info({ url }, `openconsult is listening: ${url}`);
  const setup = app.firstAdminSetupUrl();
  if (setup) {
    // Straight to the terminal, not the structured log: a one-time credential for whoever started the service.
    process.stdout.write(`\nNo practice admin has been set up yet. Open this link once to set up the first admin account\n(it works once, and a new one is printed at each start until then):\n\n  ${setup}\n\n`);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // One node of a region drains (its calls may go on for DRAIN_GRACE, then move); a single
    // process tells its clients it restarts and stops at once.
    const retiring = app.multiNode && signal === 'SIGTERM';
    logger.info({ signal }, retiring ? 'draining, then shutting down' : 'shutting down');
    const force = setTimeout(() => process.exit(1), (retiring ? config.drainGrace * 1000 : 0) + 10_000);
    force.unref();
    (retiring ? app.retire() : app.close()).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`openconsult: failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
