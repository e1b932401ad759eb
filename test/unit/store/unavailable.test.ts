/** Which PostgreSQL failures are the database being away (503 unavailable) and which are not. */
import { describe, expect, it } from 'vitest';
import { isUnavailable } from '../../../server/store/pg/unavailable.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('a PostgreSQL failure', () => {
  it('is the database being away when it is a refused or reset connection, a shutdown, a start-up or a lost link', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', '57P01', '57P02', '57P03', '08006', '08001', '53300']) expect(isUnavailable(withCode(code)), code).toBe(true);
    for (const message of ['Connection terminated unexpectedly', 'Connection terminated due to connection timeout',
      'timeout exceeded when trying to connect', 'Client has encountered a connection error and is not queryable', 'Query read timeout']) {
      expect(isUnavailable(new Error(message)), message).toBe(true);
    }
  });

  it('is not when the request itself is wrong', () => {
    for (const code of ['23505', '23503', '42P01', '22P02']) expect(isUnavailable(withCode(code)), code).toBe(false);
    expect(isUnavailable(new Error('boom'))).toBe(false);
    expect(isUnavailable(undefined)).toBe(false);
  });
});
