/**
 * The default practice as the holder of consultations made by unit tests (the server's own
 * bootstrap does this from PRACTICE_NAME; tests without a server name it here).
 */
import type { Holder } from '../../server/consultations/service.js';
import { DEFAULT_PRACTICE_ID } from '../../server/store/db.js';
import type { PracticeStore } from '../../server/store/store.js';

export async function defaultHolder(store: Pick<PracticeStore, 'getPractice' | 'updatePractice'>, name = 'Test Surgery'): Promise<Holder> {
  await store.updatePractice(DEFAULT_PRACTICE_ID, { name });
  const practice = await store.getPractice(DEFAULT_PRACTICE_ID);
  if (!practice) throw new Error('the default practice is missing');
  return { practice };
}
