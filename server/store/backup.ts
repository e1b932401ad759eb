/**
 * Consistent backups of the SQLite database while the service runs. SQLite's online backup API
 * (better-sqlite3's `db.backup()`) copies a snapshot from its own read connection: the service
 * keeps writing (WAL mode lets a reader and a writer work at once). The copy is written under a
 * temporary name that is created readable by its owner only (it holds personal data: never
 * readable by others, not even while it is written or if the copy is interrupted), checked
 * (`PRAGMA integrity_check`), turned into a single self-contained file (rollback journal, no -wal
 * beside it) and only then renamed into place.
 *
 * Also a command: `node dist/server/store/backup.js [--out FILE] [--keep N]` (the release's
 * `bin/openconsult backup`, and `npm run backup` through scripts/backup.ts).
 */
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { ConfigError, loadConfig } from '../../config/load.js';
import { DB_FILE_NAME } from './db.js';

export interface BackupResult {
  file: string;
  bytes: number;
  ms: number;
  /** Rows in the consultations table of the copy: a quick sign it holds what it should. */
  consultations: number;
}

/** Copies the database `source` to `dest` consistently; `dest` appears complete or not at all. */
export async function backupDatabase(source: string, dest: string): Promise<BackupResult> {
  const started = Date.now();
  mkdirSync(path.dirname(dest), { recursive: true, mode: 0o700 });
  const tmp = `${dest}.partial-${process.pid}`;
  rmSync(tmp, { force: true });
  // Not readonly: a WAL database needs its -shm, which a read-only connection may not create.
  const db = new Database(source, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    // SQLite would create the copy 0644; an empty file is an empty database, and SQLite gives its
    // journal the file's mode. The mode can only lose bits to the umask.
    closeSync(openSync(tmp, 'wx', 0o600));
    // Everything in one step after the first: a multi-step copy restarts whenever the service
    // writes in between, which under steady load could go on for ever.
    await db.backup(tmp, { progress: ({ totalPages }) => Math.max(totalPages, 100) });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    db.close();
  }
  let consultations = 0;
  const copy = new Database(tmp);
  try {
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`backup failed its integrity check: ${String(check)}`);
    copy.pragma('journal_mode = DELETE');
    consultations = (copy.prepare('SELECT COUNT(*) AS n FROM consultations').get() as { n: number }).n;
  } catch (err) {
    copy.close();
    rmSync(tmp, { force: true });
    throw err;
  }
  copy.close();
  renameSync(tmp, dest);
  return { file: dest, bytes: statSync(dest).size, ms: Date.now() - started, consultations };
}

/** `openconsult-20260124T101500Z.sqlite`: sorts by time, one per second at most. */
export function backupName(at: Date): string {
  return `openconsult-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.sqlite`;
}

const BACKUP_RE = /^openconsult-\d{8}T\d{6}Z\.sqlite$/;

/** Deletes all but the newest `keep` backups this command made in `dir`. Returns what it deleted. */
export function pruneBackups(dir: string, keep: number): string[] {
  const names = readdirSync(dir).filter((n) => BACKUP_RE.test(n)).sort();
  const old = names.slice(0, Math.max(0, names.length - keep));
  for (const n of old) rmSync(path.join(dir, n), { force: true });
  return old;
}

export interface BackupCliOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  now?: () => Date;
  out?: (line: string) => void;
}

const USAGE = `usage: backup [--out FILE] [--keep N]
  Copies the SQLite database in DATA_DIR consistently while the service runs (with DATABASE_URL,
  the data is in PostgreSQL: use pg_dump instead; this command then exits 2).
  --out FILE  where to write (default: DATA_DIR/backups/openconsult-<UTC time>.sqlite)
  --keep N    afterwards keep only the newest N backups in DATA_DIR/backups (default: keep all)
Settings (DATA_DIR, CONFIG_FILE) are read like the service's.`;

/** The command line. Returns the exit code. */
export async function runBackupCli(opts: BackupCliOptions): Promise<number> {
  const print = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  let outFile: string | undefined;
  let keep: number | undefined;
  const args = [...opts.argv];
  while (args.length > 0) {
    const a = args.shift() as string;
    if (a === '--out' && args[0]) outFile = path.resolve(args.shift() as string);
    else if (a === '--keep' && args[0] && /^\d+$/.test(args[0]) && Number(args[0]) >= 1) keep = Number(args.shift());
    else if (a === '-h' || a === '--help') {
      print(USAGE);
      return 0;
    } else {
      process.stderr.write(`backup: unexpected argument ${JSON.stringify(a)}\n${USAGE}\n`);
      return 2;
    }
  }
  let dataDir: string;
  try {
    const config = loadConfig({ env: opts.env });
    if (config.databaseUrl) {
      // The URL is not repeated: it may carry a password.
      process.stderr.write('backup: DATABASE_URL is set, so the data is in PostgreSQL, which this command does not copy.\n'
        + 'Back it up with PostgreSQL\'s own tools, e.g. pg_dump --format=custom --file=openconsult.dump "$DATABASE_URL".\n');
      return 2;
    }
    dataDir = config.dataDir;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`backup: configuration error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const source = path.join(dataDir, DB_FILE_NAME);
  const backupDir = path.join(dataDir, 'backups');
  const dest = outFile ?? path.join(backupDir, backupName((opts.now ?? (() => new Date()))()));
  try {
    const result = await backupDatabase(source, dest);
    const pruned = keep !== undefined && !outFile ? pruneBackups(backupDir, keep) : [];
    print(JSON.stringify({ ...result, pruned }));
    return 0;
  } catch (err) {
    process.stderr.write(`backup: ${(err as Error).message} (database ${source})\n`);
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runBackupCli({ argv: process.argv.slice(2), env: process.env }).then((code) => {
    process.exitCode = code;
  });
}
