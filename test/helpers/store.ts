/**
 * The store the tests run against: SQLite by default, PostgreSQL in the `postgres` project
 * (OPENCONSULT_TEST_STORE=postgres), each data folder in a fresh database (a schema) of the
 * project's one cluster. A data folder names its database, so a test that restarts on the same
 * folder gets the same one.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { inject } from 'vitest';
import { createLogger } from '../../server/log.js';
import { openDb } from '../../server/store/db.js';
import { PgStore } from '../../server/store/pg/store.js';
import { SqliteStore } from '../../server/store/sqlite/store.js';
import type { Store } from '../../server/store/store.js';
import { createDatabase } from './engines.js';

export type TestStoreKind = 'sqlite' | 'postgres';

export const testStoreKind: TestStoreKind = process.env.OPENCONSULT_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** This test process's database in the project's cluster, made on first use (CREATE DATABASE takes most of a second). */
let workerDatabase: Promise<string> | undefined;

/**
 * The PostgreSQL database that belongs to a data folder, or undefined when the tests run on
 * SQLite: a schema of its own (cheap to make) in this process's database, chosen by the
 * connection's search_path, so the service's unqualified tables are that schema's.
 */
export async function testDatabaseUrl(dataDir: string): Promise<string | undefined> {
  if (testStoreKind !== 'postgres') return undefined;
  workerDatabase ??= createDatabase(inject('pgClusterUrl'), `oc_worker_${process.pid}`);
  const url = new URL(await workerDatabase);
  const schema = `oc_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 24)}`;
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } finally {
    await client.end();
  }
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

/** The store of a data folder, as the tests of this project run it. */
export async function openTestStore(dataDir: string): Promise<Store> {
  const url = await testDatabaseUrl(dataDir);
  if (url) return PgStore.open(url, createLogger('warn'));
  return new SqliteStore(openDb(path.join(dataDir, 'db.sqlite')));
}

/** Every row of a table as the database holds it (to check what is, and is not, written). */
export async function rawRows(dataDir: string, table: string): Promise<Record<string, unknown>[]> {
  const url = await testDatabaseUrl(dataDir);
  if (!url) {
    const db = openDb(path.join(dataDir, 'db.sqlite'));
    try {
      return db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(`SELECT * FROM ${table}`)).rows;
  } finally {
    await client.end();
  }
}
