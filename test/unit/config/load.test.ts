import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, parseDuration } from '../../../config/load.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'openconsult-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function configFile(name: string, content: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('loads the embedded defaults from an empty environment', () => {
    const c = loadConfig({ env: {} });
    expect(c).toMatchObject({
      port: 3000, host: '0.0.0.0', smsProvider: 'outbox', linkTtl: 86400, waitingTimeout: 1800,
      maxCallDuration: 5400, emptyRoomGrace: 300, reconnectGrace: 60, rtcMinPort: 40000, rtcMaxPort: 49999,
      turnUrls: [], logLevel: 'info',
    });
    expect(c.dataDir).toBe(path.resolve('./data'));
    expect(c.smsOutboxFile).toBe(path.join(path.resolve('./data'), 'sms-outbox.jsonl'));
    expect(c.apiKey).toBeUndefined();
    expect(c.publicUrl).toBeUndefined();
  });

  it('returns a frozen object', () => {
    const c = loadConfig({ env: {} });
    expect(Object.isFrozen(c)).toBe(true);
    expect(() => {
      (c as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(c.port).toBe(3000);
  });
});

describe('loadConfig environment', () => {
  it('reads PORT and DATA_DIR', () => {
    const c = loadConfig({ env: { PORT: '8080', DATA_DIR: path.join(dir, 'data') } });
    expect(c.port).toBe(8080);
    expect(c.dataDir).toBe(path.join(dir, 'data'));
    expect(c.smsOutboxFile).toBe(path.join(dir, 'data', 'sms-outbox.jsonl'));
  });

  it.each([
    ['15m', 900],
    ['24h', 86400],
    ['90s', 90],
    ['90', 90],
    ['1h30m', 5400],
  ])('reads LINK_TTL=%s as %i seconds', (text, seconds) => {
    expect(loadConfig({ env: { LINK_TTL: text } }).linkTtl).toBe(seconds);
  });

  it('reads TURN_URLS as a comma-separated list', () => {
    const c = loadConfig({ env: { TURN_URLS: 'turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349,', TURN_SECRET: 's3cret' } });
    expect(c.turnUrls).toEqual(['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349']);
    expect(c.turnSecret).toBe('s3cret');
  });

  it('strips a trailing slash from PUBLIC_URL', () => {
    expect(loadConfig({ env: { PUBLIC_URL: 'https://vc.example.org/' } }).publicUrl).toBe('https://vc.example.org');
  });

  it('lets the environment win over the config file, and overrides over both', () => {
    const file = configFile('layers.json', { port: 4000, linkTtl: '15m', practiceName: 'From file' });
    expect(loadConfig({ env: {}, file })).toMatchObject({ port: 4000, linkTtl: 900, practiceName: 'From file' });
    expect(loadConfig({ env: { PORT: '5000' }, file })).toMatchObject({ port: 5000, linkTtl: 900 });
    expect(loadConfig({ env: { PORT: '5000' }, file, overrides: { port: 6000 } }).port).toBe(6000);
  });

  it('reads the config file named by CONFIG_FILE', () => {
    const file = configFile('by-env.json', { practiceName: 'Riverside Surgery' });
    expect(loadConfig({ env: { CONFIG_FILE: file } }).practiceName).toBe('Riverside Surgery');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ env: { PORT: '' } }).port).toBe(3000);
  });
});

describe('loadConfig errors name the key', () => {
  it.each([
    ['PORT=abc', { PORT: 'abc' }, 'PORT'],
    ['PORT=70000', { PORT: '70000' }, 'PORT'],
    ['PORT=-1', { PORT: '-1' }, 'PORT'],
    ['LINK_TTL=soon', { LINK_TTL: 'soon' }, 'LINK_TTL'],
    ['LINK_TTL=0 (below the minimum of 1 second)', { LINK_TTL: '0' }, 'LINK_TTL'],
    ['SESSION_TTL=10 (below the minimum of a minute)', { SESSION_TTL: '10' }, 'SESSION_TTL'],
    ['SMS_PROVIDER=carrierpigeon', { SMS_PROVIDER: 'carrierpigeon' }, 'SMS_PROVIDER'],
    ['LOG_LEVEL=loud', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ['RTC_MIN_PORT above RTC_MAX_PORT', { RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000' }, 'RTC_MIN_PORT'],
    ['SMS_PROVIDER=notify without NOTIFY_API_KEY', { SMS_PROVIDER: 'notify', NOTIFY_TEMPLATE_ID: 'tpl' }, 'NOTIFY_API_KEY'],
    ['TURN_URLS without TURN_SECRET', { TURN_URLS: 'turn:turn.example.org' }, 'TURN_SECRET'],
    ['TURN_URLS that are not turn: URLs', { TURN_URLS: 'http://turn.example.org', TURN_SECRET: 'x' }, 'TURN_URLS'],
    ['PUBLIC_URL without a scheme', { PUBLIC_URL: 'vc.example.org' }, 'PUBLIC_URL'],
  ])('refuses %s', (_what, env, key) => {
    expect(configError(() => loadConfig({ env }))).toContain(key);
  });

  it('refuses RTC_MIN_PORT above RTC_MAX_PORT, naming both', () => {
    const message = configError(() => loadConfig({ env: { RTC_MIN_PORT: '50000', RTC_MAX_PORT: '40000' } }));
    expect(message).toContain('RTC_MAX_PORT');
  });

  it('refuses an unknown key in a config file, naming it', () => {
    const file = configFile('unknown.json', { port: 3000, linkTTL: 900 });
    const message = configError(() => loadConfig({ env: {}, file }));
    expect(message).toContain('linkTTL');
    expect(message).toContain(file);
  });

  // Keys are looked up in the settings object literal, so Object.prototype's members pass as "known".
  it.each(['constructor', 'toString', 'hasOwnProperty', '__proto__'])('refuses a config file key named like an Object member: %s', (key) => {
    const file = configFile(`member-${key}.json`, `{"${key}": {"practiceName": "Injected"}}`);
    expect(configError(() => loadConfig({ env: {}, file }))).toContain(key);
  });

  it('refuses a bad duration in a config file, naming the key', () => {
    const file = configFile('bad-duration.json', { waitingTimeout: 'a while' });
    expect(configError(() => loadConfig({ env: {}, file }))).toContain('waitingTimeout');
  });

  it('refuses a config file that is not a JSON object', () => {
    expect(configError(() => loadConfig({ env: {}, file: configFile('array.json', '[1,2]') }))).toContain('JSON object');
    expect(configError(() => loadConfig({ env: {}, file: configFile('broken.json', '{"port": ') }))).toContain('broken.json');
    expect(configError(() => loadConfig({ env: {}, file: path.join(dir, 'missing.json') }))).toContain('missing.json');
  });

  it('never prints an invalid secret from the environment', () => {
    const secret = 'too-short-key-XYZ';
    const message = configError(() => loadConfig({ env: { API_KEY: secret } }));
    expect(message).toContain('API_KEY');
    expect(message).not.toContain(secret);
  });

  it('never prints an invalid secret from a config file', () => {
    const secret = 'short-session-XYZ';
    const file = configFile('secret.json', { sessionSecret: secret });
    const message = configError(() => loadConfig({ env: {}, file }));
    expect(message).toContain('SESSION_SECRET');
    expect(message).not.toContain(secret);
  });

  it('describes a config for logs without its secrets', () => {
    const apiKey = 'a-long-enough-api-key-0123456789';
    const c = loadConfig({ env: { API_KEY: apiKey, TURN_URLS: 'turn:t.example.org', TURN_SECRET: 'turn-secret-XYZ' } });
    const shown = JSON.stringify(describeConfig(c));
    expect(shown).not.toContain(apiKey);
    expect(shown).not.toContain('turn-secret-XYZ');
    expect(shown).toContain('turn:t.example.org');
  });
});

describe('parseDuration', () => {
  it.each(['', 'soon', '15 minutes', '15x', 'm15', '-5', '1.5h'])('refuses "%s"', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});
