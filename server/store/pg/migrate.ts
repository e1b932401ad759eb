/**
 * Migrates a PostgreSQL database forward at start, once, however many nodes start at the same
 * time: the whole run is one transaction holding an advisory lock, so the second node waits for
 * the first, then finds nothing left to do. The version lives in a one-row table.
 */
import type pg from 'pg';
import { migrations } from '../migrations.js';

/** The advisory lock's key ('oc' 'mi'): advisory locks are per database, so it only has to be ours within it. */
const MIGRATION_LOCK = 0x6f63_6d69;

export async function migrate(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
      one BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one), version INTEGER NOT NULL)`);
    await client.query('INSERT INTO schema_version (version) VALUES (0) ON CONFLICT DO NOTHING');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = rows[0]?.version ?? 0;
    for (let v = current; v < migrations.length; v++) await client.query(migrations[v]!.postgres);
    if (current < migrations.length) await client.query('UPDATE schema_version SET version = $1', [migrations.length]);
    await client.query('COMMIT');
    client.release();
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw err;
  }
}
