/** The pages without a link code: the landing page, the staff's console and admin page, and the accessibility statement. (Link pages: links.ts.) */
import type { FastifyInstance } from 'fastify';
import { HtmlPage } from './schemas.js';

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const page = { schema: { response: { 200: HtmlPage } } };
  app.get('/', page, async (_req, reply) => reply.sendFile('index.html'));
  app.get('/accessibility', page, async (_req, reply) => reply.sendFile('accessibility.html'));
  app.get('/console', page, async (_req, reply) => reply.sendFile('console.html', { cacheControl: false }));
  app.get('/admin', page, async (_req, reply) => reply.sendFile('admin.html', { cacheControl: false }));
}
