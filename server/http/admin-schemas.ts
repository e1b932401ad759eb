/**
 * Request and answer schemas of `GET /api/v1/me` and the admin API (./me.ts, ./admin.ts). The
 * console and the admin page import their `Static<>` types (types only, like schemas.ts's).
 */
import { type Static, Type } from '@sinclair/typebox';
import { staffRoles, userStatuses } from '../../signalling/vocabulary.js';
import { permissions } from '../auth/permissions.js';
import { Nullable, Time, Word } from './schemas.js';

const Role = Word(staffRoles);
const Roles = Type.Array(Role, { minItems: 1, maxItems: staffRoles.length, uniqueItems: true });

// ---- GET /api/v1/me --------------------------------------------------------------------

/** Who is asking and what they may do, so a page shows only that. An API key is `user: null`. */
export const MeReply = Type.Object({
  user: Nullable(Type.Object({ id: Type.String(), displayName: Type.String(), email: Type.String(), roles: Type.Array(Role) })),
  practice: Type.Object({ odsCode: Type.String(), name: Type.String() }),
  /** What a signed-in page sends back in `x-csrf-token` on every state-changing request. */
  csrfToken: Nullable(Type.String()),
  rights: Type.Array(Word(permissions)),
});
export type MeReply = Static<typeof MeReply>;

// ---- people ----------------------------------------------------------------------------

export const UserIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
export type UserIdParams = Static<typeof UserIdParams>;

export const InviteUserBody = Type.Object(
  {
    email: Type.String({ minLength: 3, maxLength: 254 }),
    displayName: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
    roles: Roles,
  },
  { additionalProperties: false },
);
export type InviteUserBody = Static<typeof InviteUserBody>;

export const RolesBody = Type.Object({ roles: Roles }, { additionalProperties: false });
export type RolesBody = Static<typeof RolesBody>;

export const StaffUser = Type.Object({
  id: Type.String(),
  displayName: Type.String(),
  email: Type.String(),
  roles: Type.Array(Role),
  status: Word(userStatuses),
  createdAt: Time,
});
export type StaffUser = Static<typeof StaffUser>;

export const UserList = Type.Object({ users: Type.Array(StaffUser) });
export type UserList = Static<typeof UserList>;

export const UserReply = Type.Object({ user: StaffUser });
export type UserReply = Static<typeof UserReply>;

/** An invitation or a new set-up link: the link is in this answer only (the store keeps its hash). */
export const SetupLinkReply = Type.Object({ user: StaffUser, setupUrl: Type.String(), expiresAt: Time });
export type SetupLinkReply = Static<typeof SetupLinkReply>;

// ---- API keys ----------------------------------------------------------------------------

export const KeyIdParams = UserIdParams;
export type KeyIdParams = Static<typeof KeyIdParams>;

export const KeyBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }) }, { additionalProperties: false });
export type KeyBody = Static<typeof KeyBody>;

export const ApiKeyView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Time,
  lastUsedAt: Nullable(Time),
  /** A rotated key works until then. */
  expiresAt: Nullable(Time),
  revokedAt: Nullable(Time),
  /** Whether it is accepted now. */
  usable: Type.Boolean(),
  /** API_KEY of the service's configuration: the operator changes it, not the admin page. */
  configured: Type.Boolean(),
});
export type ApiKeyView = Static<typeof ApiKeyView>;

export const KeyList = Type.Object({ keys: Type.Array(ApiKeyView) });
export type KeyList = Static<typeof KeyList>;

/** A new key: `secret` is in this answer only. After a rotation, `oldKeyExpiresAt` says when the replaced key stops. */
export const IssuedKeyReply = Type.Object({ key: ApiKeyView, secret: Type.String(), oldKeyExpiresAt: Type.Optional(Time) });
export type IssuedKeyReply = Static<typeof IssuedKeyReply>;

export const KeyReply = Type.Object({ key: ApiKeyView });
export type KeyReply = Static<typeof KeyReply>;

// ---- the practice's own audit lines --------------------------------------------------------

export const PracticeEventsReply = Type.Object({
  events: Type.Array(Type.Object({
    seq: Type.Integer(),
    at: Time,
    /** `user:<id>`, `key:<id>`, `operator` or `system`: never a name or an e-mail. */
    actor: Type.String(),
    type: Type.String(),
    detail: Nullable(Type.Record(Type.String(), Type.Unknown())),
  })),
});
export type PracticeEventsReply = Static<typeof PracticeEventsReply>;
