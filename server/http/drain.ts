/** While the service stops, no new consultation: its SMS would go out for a service about to go away. */
import fp from 'fastify-plugin';
import { AppError } from '../errors.js';

export interface DrainOptions {
  draining: () => boolean;
}

export const drainGate = fp<DrainOptions>(async (app, opts) => {
  app.addHook('onRequest', async (req, reply) => {
    if (opts.draining() && req.method === 'POST' && req.routeOptions.url === '/api/v1/consultations') {
      reply.header('retry-after', '30');
      throw new AppError('unavailable', 'The service is restarting. Try again in a minute.');
    }
  });
});
