/**
 * The admin page (/admin) of a signed-in practice admin: the practice's people (invite, roles,
 * disable, enable, a new set-up link), its API keys (create, rotate, revoke) and its recent
 * changes. A set-up link or a key is shown once, with a copy button and a warning. A page
 * without a sign-in goes to the sign-in page, which brings them back.
 */
import { staffRoles, type StaffRole } from '../../signalling/vocabulary.js';
import { ApiError } from '../console/api.js';
import { byId, fieldError, make } from '../console/dom.js';
import { signedIn, toSignIn } from '../console/signed-in.js';
import { AdminApi, type ApiKeyView, type StaffUser } from './api.js';
import { KeysTable } from './keys.js';
import { PeopleTable } from './people.js';
import { ShownOnce } from './secret.js';
import { describeEvent, when } from './words.js';

const unknownError = () => new ApiError(0, 'unknown', 'Something went wrong. Please try again.');

export class AdminApp {
  private api: AdminApi | undefined;
  private people: PeopleTable | undefined;
  private keys: KeysTable | undefined;
  private users = new Map<string, StaffUser>();
  private keyList = new Map<string, ApiKeyView>();
  private readonly setup = new ShownOnce('setup', (m) => this.say(m));
  private readonly secret = new ShownOnce('key', (m) => this.say(m));
  private busy = false;

  start(): void {
    void this.load();
  }

  private async load(): Promise<void> {
    const signed = await signedIn('/admin');
    if (!signed) return;
    const { me } = signed;
    if (!me.user || !me.rights.includes('practice.manage')) {
      const message = byId('loading-message');
      message.textContent = 'Only your practice\'s admins can manage its people and keys. ';
      const back = make('a', { text: 'Go to the consultations' });
      back.href = '/console';
      message.append(back);
      return;
    }
    this.api = new AdminApi(signed.http);
    this.people = new PeopleTable(byId<HTMLTableSectionElement>('people-body'), {
      setRoles: (u, roles) => void this.act(u.id, 'people', () => this.api!.setRoles(u.id, roles), `Roles of ${u.displayName} saved.`),
      disable: (u) => void this.act(u.id, 'people', () => this.api!.disable(u.id), `${u.displayName} is disabled and signed out everywhere.`),
      enable: (u) => void this.act(u.id, 'people', () => this.api!.enable(u.id), `${u.displayName} is enabled.`),
      setupLink: (u) => void this.act(u.id, 'people', async () => {
        const link = await this.api!.setupLink(u.id);
        this.setup.show(`A new set-up link for ${u.displayName} (earlier ones no longer work). It works until ${when(link.expiresAt)}.`, link.setupUrl);
      }),
    }, me.user.id);
    this.keys = new KeysTable(byId<HTMLTableSectionElement>('keys-body'), {
      rotate: (k) => void this.act(k.id, 'keys', async () => {
        const issued = await this.api!.rotateKey(k.id);
        this.secret.show(`The new key for "${k.name}". The old key works until ${issued.oldKeyExpiresAt ? when(issued.oldKeyExpiresAt) : 'now'}: switch the practice system over before then.`,
          issued.secret);
      }),
      revoke: (k) => void this.act(k.id, 'keys', () => this.api!.revokeKey(k.id), `The key "${k.name}" is revoked: it no longer works.`),
    });
    byId<HTMLFormElement>('invite-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.invite();
    });
    byId<HTMLFormElement>('key-form').addEventListener('submit', (e) => {
      e.preventDefault();
      void this.createKey();
    });
    byId('admin-title').textContent = `Manage ${me.practice.name}`;
    await this.refresh();
    byId('view-loading').hidden = true;
    byId('view-admin').hidden = false;
  }

  private async refresh(focus?: { id: string; table: 'people' | 'keys' }): Promise<void> {
    const api = this.api;
    if (!api) return;
    try {
      const [users, keys, events] = await Promise.all([api.users(), api.keys(), api.events()]);
      this.users = new Map(users.map((u) => [u.id, u]));
      this.keyList = new Map(keys.map((k) => [k.id, k]));
      this.people?.render(users, focus?.table === 'people' ? focus.id : undefined);
      this.keys?.render(keys, focus?.table === 'keys' ? focus.id : undefined);
      byId('events-body').replaceChildren(...events.map((e) => {
        const { who, what } = describeEvent(e, this.users, this.keyList);
        const tr = make('tr');
        tr.setAttribute('role', 'row');
        const at = make('td', { text: when(e.at) });
        const by = make('td', { text: who });
        const did = make('td', { text: what });
        for (const [td, label] of [[at, 'When'], [by, 'Who'], [did, 'What']] as const) {
          td.setAttribute('role', 'cell');
          td.dataset.label = label;
        }
        tr.append(at, by, did);
        return tr;
      }));
    } catch (err) {
      this.failed(err);
    }
  }

  /** One change at a time; the tables are read again after it, focus back on its row. */
  private async act(id: string, table: 'people' | 'keys', change: () => Promise<unknown>, done?: string): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.problem('');
    try {
      await change();
      if (done) this.say(done);
      await this.refresh({ id, table });
    } catch (err) {
      this.failed(err);
    } finally {
      this.busy = false;
    }
  }

  private async invite(): Promise<void> {
    const name = byId<HTMLInputElement>('invite-name');
    const email = byId<HTMLInputElement>('invite-email');
    const roles = [...document.querySelectorAll<HTMLInputElement>('#invite-roles input:checked')]
      .map((b) => b.value).filter((r): r is StaffRole => (staffRoles as readonly string[]).includes(r));
    fieldError(name, '');
    fieldError(email, '');
    byId('invite-roles-error').textContent = '';
    byId('invite-error').textContent = '';
    if (!name.value.trim()) return this.refuse(name, 'Enter the person\'s name.');
    if (!email.value.trim()) return this.refuse(email, 'Enter the person\'s e-mail address.');
    if (!roles.length) {
      byId('invite-roles-error').textContent = 'Choose at least one role.';
      byId('invite-role-clinician').focus();
      return;
    }
    await this.act('', 'people', async () => {
      try {
        const invited = await this.api!.invite({ displayName: name.value.trim(), email: email.value.trim(), roles });
        this.setup.show(`${invited.user.displayName} is invited. Send them this link to set up their account; it works until ${when(invited.expiresAt)}.`,
          invited.setupUrl);
        name.value = '';
        email.value = '';
        for (const box of document.querySelectorAll<HTMLInputElement>('#invite-roles input')) box.checked = false;
      } catch (err) {
        if (err instanceof ApiError && (err.code === 'validation_failed' || err.code === 'invalid_state')) {
          if (/mail/i.test(err.message)) this.refuse(email, err.message);
          else byId('invite-error').textContent = err.message;
          return;
        }
        throw err;
      }
    });
  }

  private async createKey(): Promise<void> {
    const name = byId<HTMLInputElement>('key-name');
    fieldError(name, '');
    if (!name.value.trim()) return this.refuse(name, 'Enter a name for the key, for example the system that will use it.');
    await this.act('', 'keys', async () => {
      const issued = await this.api!.createKey(name.value.trim());
      this.secret.show(`The new key "${issued.key.name}".`, issued.secret);
      name.value = '';
    });
  }

  private refuse(input: HTMLInputElement, message: string): void {
    fieldError(input, message);
    input.focus();
  }

  private failed(err: unknown): void {
    const e = err instanceof ApiError ? err : unknownError();
    if (e.status === 401) {
      toSignIn('/admin');
      return;
    }
    this.problem(e.message);
  }

  private say(message: string): void {
    byId('admin-status').textContent = message;
  }

  private problem(message: string): void {
    byId('admin-problem').textContent = message;
  }
}
