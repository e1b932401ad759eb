/** One debug line per request, with link codes masked: a code in a log is a usable link. */
import fp from 'fastify-plugin';

export function maskCodes(url: string): string {
  // Staff set-up links (`/setup/{code}`, server/tenancy/people.ts) are one-time codes too, and so
  // are what an OpenID provider sends back and a set-up code carried into its sign-in (server/http/signin.ts).
  return url.replace(/\/j\/[^/?#]+/, '/j/[code]').replace(/\/links\/[^/?#]+/, '/links/[code]').replace(/\/setup\/[^/?#]+/, '/setup/[code]')
    .replace(/([?&](?:setup|code|state)=)[^&#]*/g, '$1[code]');
}

export const accessLog = fp(async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: maskCodes(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
});
