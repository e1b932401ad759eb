/**
 * The admin API as the admin page uses it (server/http/admin.ts): the practice's people, API keys
 * and recent changes. Requests go through the console's Requester (session cookie, CSRF token,
 * coded errors); the answers' shapes are the service's schemas (types only).
 */
import type {
  InviteUserBody, IssuedKeyReply, KeyList, KeyReply, PracticeEventsReply, SetupLinkReply, UserList, UserReply,
} from '../../server/http/admin-schemas.js';
import type { StaffRole } from '../../signalling/vocabulary.js';
import type { Requester } from '../console/api.js';

export type { ApiKeyView, StaffUser } from '../../server/http/admin-schemas.js';
export type PracticeEvent = PracticeEventsReply['events'][number];

const user = (id: string) => `/api/v1/admin/users/${encodeURIComponent(id)}`;
const key = (id: string) => `/api/v1/admin/keys/${encodeURIComponent(id)}`;

export class AdminApi {
  constructor(private readonly http: Requester) {}

  async users(): Promise<UserList['users']> {
    return ((await this.http.call('GET', '/api/v1/admin/users')) as UserList).users;
  }

  async invite(body: InviteUserBody): Promise<SetupLinkReply> {
    return (await this.http.call('POST', '/api/v1/admin/users', body)) as SetupLinkReply;
  }

  async setRoles(id: string, roles: StaffRole[]): Promise<UserReply> {
    return (await this.http.call('PUT', `${user(id)}/roles`, { roles })) as UserReply;
  }

  async disable(id: string): Promise<UserReply> {
    return (await this.http.call('POST', `${user(id)}/disable`)) as UserReply;
  }

  async enable(id: string): Promise<UserReply> {
    return (await this.http.call('POST', `${user(id)}/enable`)) as UserReply;
  }

  async setupLink(id: string): Promise<SetupLinkReply> {
    return (await this.http.call('POST', `${user(id)}/setup-link`)) as SetupLinkReply;
  }

  async keys(): Promise<KeyList['keys']> {
    return ((await this.http.call('GET', '/api/v1/admin/keys')) as KeyList).keys;
  }

  async createKey(name: string): Promise<IssuedKeyReply> {
    return (await this.http.call('POST', '/api/v1/admin/keys', { name })) as IssuedKeyReply;
  }

  async rotateKey(id: string): Promise<IssuedKeyReply> {
    return (await this.http.call('POST', `${key(id)}/rotate`)) as IssuedKeyReply;
  }

  async revokeKey(id: string): Promise<KeyReply> {
    return (await this.http.call('POST', `${key(id)}/revoke`)) as KeyReply;
  }

  async events(): Promise<PracticeEvent[]> {
    return ((await this.http.call('GET', '/api/v1/admin/events')) as PracticeEventsReply).events;
  }
}
