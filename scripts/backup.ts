/**
 * `npm run backup [-- --out FILE] [-- --keep N]`: a consistent copy of the SQLite database while
 * the service runs, into DATA_DIR/backups/ (or FILE). The work is in server/store/backup.ts,
 * which the release bundle runs compiled as `bin/openconsult backup`.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBackupCli } from '../server/store/backup.js';

export { backupDatabase, runBackupCli } from '../server/store/backup.js';

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await runBackupCli({ argv: process.argv.slice(2), env: process.env });
}
