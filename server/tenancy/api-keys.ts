/**
 * A practice's API keys, for its practice system: each named, shown once at creation, stored as
 * a SHA-256 hash (a key is 256 random bits: no stretching needed, as for link codes), with its
 * last use. Revoking stops a key at once; rotating issues a replacement and lets the old key work
 * for KEY_ROTATION_GRACE more, so the practice system switches over without a gap or a restart.
 */
import { randomBytes } from 'node:crypto';
import { hashCode, newId } from '../auth/codes.js';
import { AppError } from '../errors.js';
import type { ApiKeyRecord, TenancyStore } from '../store/store.js';
import type { PeopleActor } from './people.js';

/** The id of the key that API_KEY (or DATA_DIR/api-key) is: the default practice's, always valid. */
export const CONFIGURED_KEY_ID = 'configured';

/** `ock_` marks our keys, so secret scanners can find one pasted where it should not be. */
const PREFIX = 'ock_';

/** `last_used_at` is written at most this often per key: a busy practice system would write on every call. */
const TOUCH_EVERY_MS = 60_000;

export interface ApiKeyDeps {
  store: TenancyStore;
  now: () => number;
  rotationGraceSeconds: number;
}

export interface IssuedKey {
  record: ApiKeyRecord;
  /** The key itself: shown once, never stored. */
  key: string;
}

export type KeyCheck = { ok: true; key: ApiKeyRecord } | { ok: false; reason: 'unknown' | 'revoked' | 'expired' };

export function isUsable(k: ApiKeyRecord, now: number): boolean {
  return k.revokedAt === null && (k.expiresAt === null || k.expiresAt > now);
}

const configuredKeyError = () =>
  new AppError('invalid_state', 'This key is the API_KEY in the service\'s configuration: the operator changes or removes it there.');

export class ApiKeys {
  private readonly touched = new Map<string, number>();

  constructor(private readonly deps: ApiKeyDeps) {}

  /** The key a bearer token is, if it may be used now. */
  async check(token: string): Promise<KeyCheck> {
    const key = await this.deps.store.findApiKeyByHash(hashCode(token));
    if (!key) return { ok: false, reason: 'unknown' };
    const now = this.deps.now();
    if (key.revokedAt !== null) return { ok: false, reason: 'revoked' };
    if (key.expiresAt !== null && key.expiresAt <= now) return { ok: false, reason: 'expired' };
    if (now - (this.touched.get(key.id) ?? 0) >= TOUCH_EVERY_MS) {
      this.touched.set(key.id, now);
      await this.deps.store.touchApiKey(key.id, now);
    }
    return { ok: true, key };
  }

  async create(practiceId: string, name: string, actor: PeopleActor): Promise<IssuedKey> {
    const key = PREFIX + randomBytes(32).toString('base64url');
    const now = this.deps.now();
    const record: ApiKeyRecord = {
      id: newId(), practiceId, name: name.trim(), keyHash: hashCode(key), createdAt: now, lastUsedAt: null, expiresAt: null, revokedAt: null,
    };
    await this.deps.store.addApiKey(record);
    await this.deps.store.appendPracticeEvent({ practiceId, at: now, actor, type: 'api_key_created', detail: { keyId: record.id } });
    return { record, key };
  }

  /** A replacement with the same name; the old key works KEY_ROTATION_GRACE more. */
  async rotate(practiceId: string, id: string, actor: PeopleActor): Promise<IssuedKey & { oldKeyExpiresAt: number }> {
    const old = await this.own(practiceId, id);
    if (id === CONFIGURED_KEY_ID) throw configuredKeyError();
    if (!isUsable(old, this.deps.now())) throw new AppError('invalid_state', 'That key no longer works: create a new one instead.');
    const issued = await this.create(practiceId, old.name, actor);
    const oldKeyExpiresAt = this.deps.now() + this.deps.rotationGraceSeconds * 1000;
    await this.deps.store.expireApiKey(id, oldKeyExpiresAt);
    await this.deps.store.appendPracticeEvent({
      practiceId, at: this.deps.now(), actor, type: 'api_key_rotated', detail: { keyId: id, replacedBy: issued.record.id, oldKeyExpiresAt },
    });
    return { ...issued, oldKeyExpiresAt };
  }

  async revoke(practiceId: string, id: string, actor: PeopleActor): Promise<void> {
    await this.own(practiceId, id);
    if (id === CONFIGURED_KEY_ID) throw configuredKeyError();
    const now = this.deps.now();
    await this.deps.store.revokeApiKey(id, now);
    await this.deps.store.appendPracticeEvent({ practiceId, at: now, actor, type: 'api_key_revoked', detail: { keyId: id } });
  }

  list(practiceId: string): Promise<ApiKeyRecord[]> {
    return this.deps.store.listApiKeys(practiceId);
  }

  /** Another practice's key is answered as one that does not exist. */
  private async own(practiceId: string, id: string): Promise<ApiKeyRecord> {
    const k = await this.deps.store.getApiKey(id);
    if (!k || k.practiceId !== practiceId) throw new AppError('not_found', 'There is no such API key.');
    return k;
  }
}
