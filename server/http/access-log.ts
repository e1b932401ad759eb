/** One debug line per request, with link codes masked: a code in a log is a usable link. */
import fp from 'fastify-plugin';

export function maskCodes(url: string): string {
  return url.replace(/\/j\/[^/?#]+/, '/j/[code]').replace(/\/links\/[^/?#]+/, '/links/[code]')
    // Staff set-up links, and what an OpenID provider sends back (server/http/signin.ts).
    .replace(/\/setup\/[^/?#]+/, '/setup/[code]').replace(/([?&](?:setup|code|state)=)[^&#]*/g, '$1[code]');
}

export const accessLog = fp(async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: maskCodes(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
});
