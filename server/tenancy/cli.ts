/**
 * The operator's commands: practices (`practice add|list|suspend|resume`) and the people in them
 * (`user add|list|disable|enable|link`), on the configured store (the database in DATA_DIR, or
 * PostgreSQL with DATABASE_URL), opened directly like `report` (the service may keep running; it
 * reads a practice's status on every request, so a suspension takes effect at once). They show no patient data. Every change is
 * audited with the actor `operator`. Also a command: `node dist/server/tenancy/cli.js` (the
 * release's `bin/openconsult practice|user`, and `npm run practice|user --`).
 * Exit codes: 0 done, 1 failed (nothing found, already exists, no database), 2 usage.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadConfig } from '../../config/load.js';
import { type Config, settings } from '../../config/settings.js';
import { type StaffRole, isOneOf, staffRoles } from '../../signalling/vocabulary.js';
import { newId } from '../auth/codes.js';
import { AppError } from '../errors.js';
import { isTemplateId } from '../sms/notify.js';
import { createLogger } from '../log.js';
import { DB_FILE_NAME, DEFAULT_PRACTICE_ID } from '../store/db.js';
import { openStore } from '../store/open.js';
import type { PracticeRecord, Store, UserRecord } from '../store/store.js';
import { isUsable } from './api-keys.js';
import { type Invitation, People } from './people.js';

const USAGE = `usage: openconsult practice add --ods CODE --name NAME [--notify-template UUID]
       openconsult practice list [--format text|json]
       openconsult practice suspend --ods CODE
       openconsult practice resume --ods CODE
       openconsult user add --practice CODE --email ADDRESS --name NAME --role ROLE[,ROLE...]
       openconsult user list --practice CODE [--format text|json]
       openconsult user disable --email ADDRESS
       openconsult user enable --email ADDRESS
       openconsult user link --email ADDRESS
  Practices are named by their ODS code (3 to 10 letters and digits). NAME is what starts the
  patient's SMS (up to 40 plain GSM-7 characters). Roles: ${staffRoles.join(', ')}.
  \`user add\` and \`user link\` print a one-time link that sets up the person's account.
Settings (DATA_DIR, CONFIG_FILE, PUBLIC_URL, SETUP_LINK_TTL) are read like the service's.`;

/** Wrong arguments: exit code 2, with the usage. */
class UsageError extends Error {}
/** The command could not be done (nothing found, already there): exit code 1. */
class Failure extends Error {}

const ODS_RE = /^[A-Z0-9]{3,10}$/;
/** A person's name as the console and the patient's screen show it: no control characters. */
const PERSON_NAME_RE = /^[^\p{Cc}]{1,80}$/u;
const formats = ['text', 'json'] as const;

type Flags = Record<string, string>;

interface Context {
  config: Config;
  store: Store;
  people: People;
  now: () => number;
  print: (text: string) => void;
  warn: (text: string) => void;
}

interface Command {
  flags: readonly string[];
  required: readonly string[];
  run: (ctx: Context, flags: Flags) => Promise<void>;
}

/** `--name value` or `--name=value`, each at most once, only the command's own. */
function parseFlags(args: string[], command: Command): Flags {
  const flags: Flags = {};
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/s.exec(args[i] as string);
    const name = m?.[1];
    if (!m || !name || !command.flags.includes(name)) throw new UsageError(`unexpected argument ${JSON.stringify(args[i])}`);
    const value = m[2] ?? args[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (name in flags) throw new UsageError(`--${name} given twice`);
    flags[name] = value;
  }
  for (const name of command.required) if (!(name in flags)) throw new UsageError(`--${name} is required`);
  return flags;
}

function odsCode(value: string): string {
  const ods = value.trim().toUpperCase();
  if (!ODS_RE.test(ods)) throw new UsageError('an ODS code is 3 to 10 letters and digits, e.g. A81001');
  return ods;
}

function practiceName(value: string): string {
  if (!Value.Check(settings.practiceName.schema, value)) {
    throw new UsageError('--name is 1 to 40 plain (GSM-7) characters, as the SMS starts with it: no curly quotes, accents outside GSM-7 or emoji');
  }
  return value;
}

function personName(value: string): string {
  const name = value.trim();
  if (!PERSON_NAME_RE.test(name)) throw new UsageError('--name is 1 to 80 characters, no control characters');
  return name;
}

function roleList(value: string): StaffRole[] {
  const roles = value.split(',').map((r) => r.trim());
  const wrong = roles.find((r) => !isOneOf(staffRoles, r));
  if (wrong !== undefined) throw new UsageError(`${JSON.stringify(wrong)} is not a role (roles: ${staffRoles.join(', ')})`);
  return roles as StaffRole[];
}

function format(value: string | undefined): (typeof formats)[number] {
  if (value === undefined) return 'text';
  if (!isOneOf(formats, value)) throw new UsageError('--format is text or json');
  return value;
}

async function practiceByOds(ctx: Context, value: string): Promise<PracticeRecord> {
  const ods = odsCode(value);
  const practice = await ctx.store.findPracticeByOds(ods);
  if (!practice) throw new Failure(`there is no practice with ODS code ${ods} (see \`practice list\`)`);
  return practice;
}

async function userByEmail(ctx: Context, email: string): Promise<UserRecord> {
  const user = await ctx.store.findUserByEmail(email.trim());
  if (!user) throw new Failure('there is no user with that e-mail address (see `user list --practice CODE`)');
  return user;
}

/**
 * Columns padded to their widest cell; the last one is left ragged. Control characters are shown
 * as `?`: a name typed on the admin page must not drive the operator's terminal.
 */
function table(cells: string[][]): string {
  const rows = cells.map((r) => r.map((cell) => cell.replace(/\p{Cc}/gu, '?')));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => (i < r.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join('  ')).join('\n') + '\n';
}

function printLink(ctx: Context, invitation: Invitation): void {
  if (!ctx.config.publicUrl) ctx.warn(`PUBLIC_URL is not set: the link assumes the service is reached at http://localhost:${ctx.config.port}`);
  ctx.print(`One-time set-up link for ${invitation.user.email} (works once, until ${new Date(invitation.expiresAt).toISOString()}):\n  ${invitation.setupUrl}\n`);
}

async function setPracticeStatus(ctx: Context, flags: Flags, status: PracticeRecord['status']): Promise<void> {
  const practice = await practiceByOds(ctx, flags.ods as string);
  if (practice.id === DEFAULT_PRACTICE_ID && status === 'suspended') {
    throw new Failure(`${practice.odsCode} is the default practice, whose API key is API_KEY: it cannot be suspended`);
  }
  if (practice.status === status) {
    ctx.print(`${practice.odsCode} is already ${status}\n`);
    return;
  }
  await ctx.store.updatePractice(practice.id, { status });
  await ctx.store.appendPracticeEvent({
    practiceId: practice.id, at: ctx.now(), actor: 'operator', type: status === 'active' ? 'practice_resumed' : 'practice_suspended', detail: null,
  });
  ctx.print(`${practice.odsCode} is now ${status}\n`);
}

/** A command that does one thing to the user with `--email`. */
function onUser(act: (people: People, userId: string) => Promise<void>, done: string): Command {
  return {
    flags: ['email'],
    required: ['email'],
    async run(ctx, flags) {
      await act(ctx.people, (await userByEmail(ctx, flags.email as string)).id);
      ctx.print(`${done}\n`);
    },
  };
}

const commands: Record<string, Record<string, Command>> = {
  practice: {
    add: {
      flags: ['ods', 'name', 'notify-template'],
      required: ['ods', 'name'],
      async run(ctx, flags) {
        const ods = odsCode(flags.ods as string);
        const name = practiceName(flags.name as string);
        const template = flags['notify-template'];
        if (template !== undefined && !isTemplateId(template)) throw new UsageError('--notify-template is a GOV.UK Notify template id (a UUID)');
        if (ods === ctx.config.practiceOdsCode) throw new Failure(`${ods} is PRACTICE_ODS_CODE, the default practice's code`);
        if (await ctx.store.findPracticeByOds(ods)) throw new Failure(`a practice with ODS code ${ods} already exists`);
        const practice: PracticeRecord = { id: newId(), odsCode: ods, name, notifyTemplateId: template ?? null, status: 'active', createdAt: ctx.now() };
        await ctx.store.addPractice(practice);
        await ctx.store.appendPracticeEvent({ practiceId: practice.id, at: practice.createdAt, actor: 'operator', type: 'practice_added', detail: { odsCode: ods } });
        ctx.print(`added practice ${ods} (${name}); give it an admin with: user add --practice ${ods} --email ADDRESS --name NAME --role admin\n`);
      },
    },
    list: {
      flags: ['format'],
      required: [],
      async run(ctx, flags) {
        const as = format(flags.format);
        const now = ctx.now();
        const rows = await Promise.all((await ctx.store.listPractices()).map(async (p) => ({
          odsCode: p.odsCode, name: p.name, status: p.status,
          users: (await ctx.store.listUsers(p.id)).filter((u) => u.status !== 'disabled').length,
          apiKeys: (await ctx.store.listApiKeys(p.id)).filter((k) => isUsable(k, now)).length,
        })));
        if (as === 'json') return ctx.print(`${JSON.stringify(rows, null, 2)}\n`);
        ctx.print(table([['ODS', 'STATUS', 'USERS', 'KEYS', 'NAME'], ...rows.map((r) => [r.odsCode, r.status, String(r.users), String(r.apiKeys), r.name])]));
      },
    },
    suspend: { flags: ['ods'], required: ['ods'], run: (ctx, flags) => setPracticeStatus(ctx, flags, 'suspended') },
    resume: { flags: ['ods'], required: ['ods'], run: (ctx, flags) => setPracticeStatus(ctx, flags, 'active') },
  },
  user: {
    add: {
      flags: ['practice', 'email', 'name', 'role'],
      required: ['practice', 'email', 'name', 'role'],
      async run(ctx, flags) {
        const displayName = personName(flags.name as string);
        const roles = roleList(flags.role as string);
        const practice = await practiceByOds(ctx, flags.practice as string);
        printLink(ctx, await ctx.people.invite(practice.id, { email: flags.email as string, displayName, roles }, 'operator'));
      },
    },
    list: {
      flags: ['practice', 'format'],
      required: ['practice'],
      async run(ctx, flags) {
        const as = format(flags.format);
        const practice = await practiceByOds(ctx, flags.practice as string);
        const rows = (await ctx.store.listUsers(practice.id)).map((u) => ({ email: u.email, name: u.displayName, roles: u.roles, status: u.status }));
        if (as === 'json') return ctx.print(`${JSON.stringify(rows, null, 2)}\n`);
        ctx.print(table([['EMAIL', 'STATUS', 'ROLES', 'NAME'], ...rows.map((r) => [r.email, r.status, r.roles.join(','), r.name])]));
      },
    },
    disable: onUser((people, id) => people.disable(id, 'operator'), 'disabled: their sign-ins have ended'),
    enable: onUser((people, id) => people.enable(id, 'operator'), 'enabled'),
    link: {
      flags: ['email'],
      required: ['email'],
      async run(ctx, flags) {
        const user = await userByEmail(ctx, flags.email as string);
        if (user.status === 'disabled') throw new Failure('that account is disabled: `user enable` it first');
        printLink(ctx, await ctx.people.reissueSetupLink(user.id, 'operator'));
      },
    },
  },
};

export interface TenancyCliOptions {
  argv: string[];
  env: NodeJS.ProcessEnv;
  out?: (text: string) => void;
  err?: (text: string) => void;
  now?: () => number;
}

/** The command line (`practice …` or `user …`). Returns the exit code. */
export async function runTenancyCli(opts: TenancyCliOptions): Promise<number> {
  const print = opts.out ?? ((text: string) => process.stdout.write(text));
  const warn = opts.err ?? ((text: string) => process.stderr.write(text));
  const [noun = '', verb = '', ...args] = opts.argv;
  if (['-h', '--help', 'help'].includes(noun) || ['-h', '--help', 'help'].includes(verb)) {
    print(`${USAGE}\n`);
    return 0;
  }
  const command = commands[noun]?.[verb];
  let store: Store | undefined;
  try {
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(`${noun} ${verb}`.trim())}`);
    const flags = parseFlags(args, command);
    let config: Config;
    try {
      config = loadConfig({ env: opts.env });
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(`configuration error: ${err.message}`);
      throw err;
    }
    if (!config.databaseUrl) {
      const file = path.join(config.dataDir, DB_FILE_NAME);
      if (!existsSync(file)) throw new Failure(`no database at ${file} (is DATA_DIR right? start the service once to create it)`);
      // SQLite may create the -wal and -shm files beside it: owned by anyone else, the service could not open them.
      const owner = statSync(file).uid;
      if (process.getuid && process.getuid() !== owner) throw new Failure(`run this as the owner of ${file} (uid ${owner}), e.g. with sudo -u openconsult`);
    }
    // The configured store: the SQLite file, or with DATABASE_URL the region's PostgreSQL.
    store = await openStore(config, createLogger('silent'));
    const now = opts.now ?? Date.now;
    const people = new People({
      store, now, publicUrl: () => config.publicUrl ?? `http://localhost:${config.port}`, setupLinkTtlSeconds: config.setupLinkTtl,
    });
    await command.run({ config, store, people, now, print, warn: (text) => warn(`${noun}: ${text}\n`) }, flags);
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err instanceof AppError && err.code === 'validation_failed')) {
      warn(`${noun || 'openconsult'}: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof Failure || err instanceof AppError) {
      warn(`${noun}: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    await store?.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  runTenancyCli({ argv: process.argv.slice(2), env: process.env }).then((code) => {
    process.exitCode = code;
  }, (err: unknown) => {
    process.stderr.write(`openconsult: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
