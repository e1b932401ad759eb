/** The PostgreSQL store: being built (issue 16). */
import type { Logger } from '../../log.js';
import type { Store } from '../store.js';

export const PgStore = {
  async open(_url: string, _logger: Logger): Promise<Store> {
    throw new Error('the PostgreSQL store is not built yet');
  },
};
