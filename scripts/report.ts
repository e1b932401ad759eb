/**
 * `npm run report -- s97 --week 2026-W48 [--format csv|json]`: the S97 weekly counts of the
 * database in DATA_DIR. The work is in server/reports/, which the release bundle runs compiled as
 * `bin/openconsult report`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runReportCli } from '../server/reports/cli.js';

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runReportCli({ argv: process.argv.slice(2), env: process.env });
}
