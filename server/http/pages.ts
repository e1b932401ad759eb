/** The pages without a link code: the landing page and the clinician's console. (Link pages: links.ts.) */
import type { FastifyInstance } from 'fastify';

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', async (_req, reply) => reply.sendFile('index.html'));
  app.get('/console', async (_req, reply) => reply.sendFile('console.html', { cacheControl: false }));
}
