/**
 * `report s97 --week 2026-W48 [--format csv|json]`: the S97 weekly counts (./s97.ts) of the
 * configured store (the database in DATA_DIR, or PostgreSQL with DATABASE_URL), read directly
 * (the service may keep running).
 * Also a command: `node dist/server/reports/cli.js` (the release's `bin/openconsult report`, and
 * `npm run report --` through scripts/report.ts).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../config/load.js';
import { AppError } from '../errors.js';
import { createLogger } from '../log.js';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID } from '../store/db.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { type S97Format, s97Formats, s97Output, s97Report } from './s97.js';

const USAGE = `usage: report s97 --week YYYY-Www [--format csv|json]
  The S97 weekly counts of consultations offered, held and not held, and call lengths, for one
  ISO week (Monday 00:00 to Monday 00:00, Europe/London), from the audit log. No personal data.
  --format  json (default) or csv
Settings (DATA_DIR, CONFIG_FILE, PRACTICE_ODS_CODE) are read like the service's.`;

export interface ReportCliOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  out?: (text: string) => void;
}

function usageError(message: string): number {
  process.stderr.write(`report: ${message}\n${USAGE}\n`);
  return 2;
}

/** The command line. Returns the exit code. */
export async function runReportCli(opts: ReportCliOptions): Promise<number> {
  const print = opts.out ?? ((text: string) => process.stdout.write(text));
  const args = [...opts.argv];
  if (args[0] === '-h' || args[0] === '--help') {
    print(`${USAGE}\n`);
    return 0;
  }
  if (args.shift() !== 's97') return usageError('the only report is s97');
  let week: string | undefined;
  let format: S97Format = 'json';
  while (args.length > 0) {
    const a = args.shift() as string;
    const value = args.shift();
    if (a === '--week' && value) week = value;
    else if (a === '--format' && s97Formats.includes(value as S97Format)) format = value as S97Format;
    else return usageError(`unexpected argument ${JSON.stringify(a)}`);
  }
  if (!week) return usageError('--week is required');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: opts.env });
  } catch (err) {
    if (err instanceof ConfigError) return usageError(`configuration error: ${err.message}`);
    throw err;
  }
  const file = path.join(config.dataDir, DB_FILE_NAME);
  if (!config.databaseUrl && !existsSync(file)) {
    process.stderr.write(`report: no database at ${file} (is DATA_DIR right?)\n`);
    return 1;
  }
  let store: Store | undefined;
  try {
    store = await openStore(config, createLogger('silent'));
    // The default practice's ODS code is PRACTICE_ODS_CODE's, as the service sets it at each start.
    const practices = (await store.listPractices()).map((p) =>
      p.id === DEFAULT_PRACTICE_ID && config.practiceOdsCode ? { ...p, odsCode: config.practiceOdsCode } : p);
    print(s97Output(await s97Report(store, week, practices), format).text);
    return 0;
  } catch (err) {
    if (err instanceof AppError && err.code === 'unavailable') {
      process.stderr.write(`report: ${err.message}\n`);
      return 1;
    }
    if (err instanceof AppError) return usageError(err.message);
    throw err;
  } finally {
    await store?.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runReportCli({ argv: process.argv.slice(2), env: process.env }).then((code) => {
    process.exitCode = code;
  });
}
