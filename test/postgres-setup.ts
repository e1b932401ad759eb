/**
 * For the `postgres` project: one PostgreSQL cluster for the whole run (each server and store
 * test gets a database of its own in it, test/helpers/store.ts), stopped and deleted at the end.
 */
import type { TestProject } from 'vitest/node';
import { startPostgres } from './helpers/engines.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The `postgres` project's cluster (postgres://…/openconsult); empty in the other projects. */
    pgClusterUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startPostgres();
  project.provide('pgClusterUrl', cluster.url);
  return () => cluster.close();
}
