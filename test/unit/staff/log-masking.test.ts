import { describe, expect, it } from 'vitest';
import { maskCodes } from '../../../server/http/access-log.js';

describe('access log masking of staff sign-in codes', () => {
  it('masks a set-up link\'s code', () => {
    expect(maskCodes('/setup/AbCdEfGhIjKlMnOpQrStUv')).toBe('/setup/[code]');
    expect(maskCodes('/api/v1/setup/AbCdEfGhIjKlMnOpQrStUv')).toBe('/api/v1/setup/[code]');
  });

  it('masks the code, state and set-up code an OpenID sign-in carries in its query', () => {
    expect(maskCodes('/auth/oidc/callback?code=secret-code&state=secret-state&iss=x')).toBe('/auth/oidc/callback?code=[code]&state=[code]&iss=x');
    expect(maskCodes('/auth/oidc/start?next=%2Fconsole&setup=AbCdEfGhIjKlMnOpQrStUv')).toBe('/auth/oidc/start?next=%2Fconsole&setup=[code]');
  });
});
