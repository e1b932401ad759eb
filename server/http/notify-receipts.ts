/**
 * GOV.UK Notify's delivery-receipt callbacks: `POST /notify/receipts` with the bearer token the
 * practice gave Notify (NOTIFY_CALLBACK_TOKEN, compared in constant time). Any node may take one:
 * the store is shared. An id we do not know (another service's, or a text already final) is
 * answered 204 all the same, so Notify does not retry it; a body that is not a receipt is a
 * coded 400. The phone number Notify sends back is read by nobody.
 */
import type { FastifyInstance } from 'fastify';
import type { DeliveryReceipts } from '../sms/receipts.js';
import { requireBearer } from './bearer.js';
import { NoContent, NotifyReceiptBody } from './schemas.js';

export interface NotifyReceiptDeps {
  token: string;
  receipts: Pick<DeliveryReceipts, 'receive'>;
  now: () => number;
}

/** Notify's time (`2017-05-14T12:15:30.000000Z`), or now when it sent none we can read. */
function timeOf(text: string | null | undefined, now: () => number): number {
  const t = text ? Date.parse(text) : Number.NaN;
  return Number.isFinite(t) ? t : now();
}

export async function notifyReceiptRoutes(app: FastifyInstance, deps: NotifyReceiptDeps): Promise<void> {
  await app.register(requireBearer, { secret: deps.token, message: 'Send the callback token as "Authorization: Bearer <token>".' });
  app.post<{ Body: NotifyReceiptBody }>('/notify/receipts', { schema: { body: NotifyReceiptBody, response: { 204: NoContent } } },
    async (req, reply) => {
      await deps.receipts.receive(req.body.id, req.body.status, timeOf(req.body.completed_at, deps.now));
      return reply.status(204).send();
    });
}
