import { describe, expect, it } from 'vitest';
import { errorStatus } from '../../../server/errors.js';
import { consultationStatuses, errorCodes, isOneOf, roles } from '../../../signalling/vocabulary.js';

describe('vocabulary', () => {
  it('gives every error code an HTTP status, and no status to a code it does not list', () => {
    expect(Object.keys(errorStatus).sort()).toEqual([...errorCodes].sort());
  });

  it('recognises its own words and nothing else', () => {
    expect(isOneOf(roles, 'guest')).toBe(true);
    expect(isOneOf(roles, 'Guest')).toBe(false);
    expect(isOneOf(consultationStatuses, undefined)).toBe(false);
    expect(isOneOf(consultationStatuses, ['ended'])).toBe(false);
  });
});
