/**
 * A real OpenID provider on loopback for the sign-in tests: `oidc-provider` (a certified
 * implementation) with its development login and consent pages, any login name being the
 * account's `sub`. The test says what each account's claims are, and may make the token
 * endpoint issue ID tokens that are already expired.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
// @ts-expect-error: the package ships no types; the few calls below are all this file makes.
import Provider from 'oidc-provider';

export interface IdpAccount { email?: string; email_verified?: boolean; name?: string }
export interface IdpClient { client_id: string; client_secret: string }

export interface TestIdp {
  url: string;
  /** Claims per login name (`sub`); an unknown name signs in with no e-mail. */
  accounts: Map<string, IdpAccount>;
  /** While set, ID tokens are issued with times two hours in the past (so they are expired). */
  issueExpired: boolean;
  /** Registers the relying parties, once the service under test knows its callback URL. */
  serve(clients: IdpClient[], redirectUri: string): void;
  close(): Promise<void>;
}

export async function startIdp(): Promise<TestIdp> {
  let handler: http.RequestListener | undefined;
  const server = http.createServer((req, res) => {
    if (handler) handler(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const idp: TestIdp = {
    url,
    accounts: new Map(),
    issueExpired: false,
    serve(clients, redirectUri) {
      const provider = new Provider(url, {
        clients: clients.map((c) => ({ ...c, redirect_uris: [redirectUri], grant_types: ['authorization_code'], response_types: ['code'] })),
        findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub, ...idp.accounts.get(sub) }) }),
        claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
        // The ID token carries the claims (as CIS2's and Entra ID's do), not only the userinfo endpoint.
        conformIdTokenClaims: false,
        cookies: { keys: ['test-idp-cookie-key-0123456789'] },
        features: { devInteractions: { enabled: true } },
      });
      provider.use(async (ctx: { path: string }, next: () => Promise<void>) => {
        if (!idp.issueExpired || ctx.path !== '/token') return next();
        const realNow = Date.now;
        Date.now = () => realNow() - 2 * 3600_000;
        try {
          await next();
        } finally {
          Date.now = realNow;
        }
      });
      handler = provider.callback();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return idp;
}
