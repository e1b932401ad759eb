/**
 * What every start makes sure of, before serving: the default practice carries PRACTICE_NAME and
 * PRACTICE_ODS_CODE; API_KEY (or DATA_DIR/api-key) is the default practice's key `configured`;
 * and while that practice has no admin who has set up their account, a fresh one-time link to do
 * so is issued and handed to the caller to print (as Grafana or Gitea do on a first run).
 * A database from one-practice days is migrated by db.ts; this fills in the rest from config.
 */
import { hashCode } from '../auth/codes.js';
import { AppError } from '../errors.js';
import { DEFAULT_PRACTICE_ID } from '../store/db.js';
import type { TenancyStore } from '../store/store.js';
import { CONFIGURED_KEY_ID } from './api-keys.js';
import { type People, placeholderEmail } from './people.js';

export interface BootstrapInput {
  store: TenancyStore;
  people: People;
  now: () => number;
  practiceName: string;
  practiceOdsCode: string | undefined;
  apiKey: string;
}

export interface Bootstrapped {
  /** The code of a link to set up the default practice's first admin, when it has none yet (People.setupUrl makes the link). */
  firstAdminSetupCode?: string;
}

export async function bootstrap(input: BootstrapInput): Promise<Bootstrapped> {
  const { store, now } = input;
  await store.updatePractice(DEFAULT_PRACTICE_ID, {
    name: input.practiceName, ...(input.practiceOdsCode ? { odsCode: input.practiceOdsCode } : {}),
  });
  await store.putApiKey({
    id: CONFIGURED_KEY_ID, practiceId: DEFAULT_PRACTICE_ID, name: 'API_KEY (configuration)', keyHash: hashCode(input.apiKey),
    createdAt: now(), lastUsedAt: null, expiresAt: null, revokedAt: null,
  });

  const users = await store.listUsers(DEFAULT_PRACTICE_ID);
  if (users.some((u) => u.status !== 'invited' && u.roles.includes('admin'))) return {};
  const practice = await store.getPractice(DEFAULT_PRACTICE_ID);
  const pending = users.find((u) => u.status === 'invited' && u.roles.includes('admin'));
  // Each start while nobody has set up the first admin gives a new link (the earlier one stops).
  const invitation = pending
    ? await input.people.reissueSetupLink(pending.id, 'system')
    : await input.people.invite(DEFAULT_PRACTICE_ID, {
      email: placeholderEmail(practice?.odsCode ?? 'default'), displayName: 'Practice admin', roles: ['admin'],
    }, 'system').catch((err: unknown) => {
      // Nodes starting at the same instant on a shared store: the first one's invitation stands (and it prints the link).
      if (err instanceof AppError && err.code === 'invalid_state') return undefined;
      throw err;
    });
  return invitation ? { firstAdminSetupCode: invitation.setupCode } : {};
}
