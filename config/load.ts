/**
 * Configuration in layers: defaults -> JSON file (CONFIG_FILE) -> environment. The result is
 * validated once, unknown keys are rejected, and the first bad value stops start-up with a
 * message that names the key (and never prints a secret).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type Config, type EnvKind, type Setting, type SettingKey, settings } from './settings.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90" -> 90, "90s" -> 90, "15m" -> 900, "24h" -> 86400, "1h30m" -> 5400. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const parts = [...t.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
    throw new Error(`"${text}" is not a duration: use seconds or e.g. 90s, 15m, 24h`);
  }
  return parts.reduce((sum, [, n, u]) => sum + Number(n) * (UNITS[u as string] ?? 0), 0);
}

function parseEnv(kind: EnvKind, text: string): unknown {
  switch (kind) {
    case 'string':
      return text;
    case 'integer':
      if (!/^-?\d+$/.test(text.trim())) throw new Error(`"${text}" is not a whole number`);
      return Number(text);
    case 'duration':
      return parseDuration(text);
    case 'list':
      return text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    case 'boolean':
      if (!/^(true|false|1|0)$/.test(text)) throw new Error(`"${text}" is not true or false`);
      return text === 'true' || text === '1';
  }
}

function readFileLayer(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`config file ${file}: must hold a JSON object`);
  }
  const values = raw as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    // Durations in a file may be written like the environment's ("15m").
    const s = Object.hasOwn(settings, key) ? (settings[key as SettingKey] as Setting) : undefined;
    if (!s) throw new ConfigError(`config file ${file}: unknown key "${key}"`);
    if (s.kind === 'duration' && typeof values[key] === 'string') {
      try {
        values[key] = parseDuration(values[key] as string);
      } catch (err) {
        throw new ConfigError(`config file ${file}: ${key}: ${(err as Error).message}`);
      }
    }
  }
  return values;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Config file path; default: the CONFIG_FILE environment variable, if set. */
  file?: string;
  /** Values that win over everything else (tests and embedding). */
  overrides?: Partial<Record<SettingKey, unknown>>;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const merged: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [key, s] of Object.entries(settings) as [SettingKey, Setting][]) {
    if (s.default !== undefined) merged[key] = structuredClone(s.default);
  }
  const file = opts.file ?? env.CONFIG_FILE;
  if (file) Object.assign(merged, readFileLayer(file));
  for (const [key, s] of Object.entries(settings) as [SettingKey, Setting][]) {
    const text = env[s.env];
    if (text === undefined || text === '') continue;
    try {
      merged[key] = parseEnv(s.kind, text);
    } catch (err) {
      throw new ConfigError(`${s.env}: ${s.secret ? 'invalid value' : (err as Error).message}`);
    }
  }
  Object.assign(merged, opts.overrides);

  for (const [key, s] of Object.entries(settings) as [SettingKey, Setting][]) {
    if (merged[key] === undefined) continue;
    if (!Value.Check(s.schema, merged[key])) {
      const first = Value.Errors(s.schema, merged[key]).First();
      const shown = s.secret ? '(secret hidden)' : JSON.stringify(merged[key]);
      throw new ConfigError(`${key} (${s.env}) = ${shown}: ${first?.message ?? 'invalid'}`);
    }
  }
  const rtcMin = merged.rtcMinPort as number;
  const rtcMax = merged.rtcMaxPort as number;
  if (rtcMin > rtcMax) throw new ConfigError(`rtcMinPort (RTC_MIN_PORT) ${rtcMin} is above rtcMaxPort (RTC_MAX_PORT) ${rtcMax}`);
  if (merged.smsProvider === 'notify' && (!merged.notifyApiKey || !merged.notifyTemplateId)) {
    throw new ConfigError('SMS_PROVIDER=notify needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID');
  }
  if (merged.turnUrls && (merged.turnUrls as string[]).length > 0 && !merged.turnSecret) {
    throw new ConfigError('TURN_URLS is set but TURN_SECRET is not: browsers could not authenticate');
  }

  if (merged.redisUrl !== undefined) {
    // Every node must read the same store, sign the same sessions and accept the same key.
    const missing = ['databaseUrl', 'sessionSecret', 'apiKey'].filter((k) => merged[k] === undefined).map((k) => settings[k as SettingKey].env);
    if (missing.length) throw new ConfigError(`REDIS_URL (several nodes) needs ${missing.join(', ')} set, the same on every node`);
  }
  merged.nodeId ??= hostname().toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+/, '').slice(0, 32) || 'node';
  merged.dataDir = path.resolve(merged.dataDir as string);
  if (merged.publicUrl !== undefined) merged.publicUrl = (merged.publicUrl as string).replace(/\/+$/, '');
  merged.smsOutboxFile = path.resolve((merged.smsOutboxFile as string | undefined) ?? path.join(merged.dataDir as string, 'sms-outbox.jsonl'));
  for (const v of Object.values(merged)) if (Array.isArray(v)) Object.freeze(v);
  return Object.freeze(merged) as unknown as Config;
}

/** For logs: the configuration with secrets replaced. */
export function describeConfig(config: Config): Record<string, unknown> {
  return Object.fromEntries(
    (Object.entries(settings) as [SettingKey, Setting][]).map(([key, s]) => [
      key,
      s.secret && config[key] !== undefined ? '(set)' : config[key],
    ]),
  );
}
