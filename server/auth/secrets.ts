/**
 * Secrets the operator did not set are generated once into DATA_DIR (mode 0600) and reused, so
 * sessions and the API key survive restarts and upgrades. A secret read from a file must be as
 * long as its setting requires: an empty `session-secret` would be an empty HMAC key, with
 * which anyone can sign a clinician's session.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../config/load.js';

export interface Secret {
  value: string;
  /** Where it was generated or read from; undefined when it came from config. */
  file?: string;
  generated: boolean;
}

/**
 * `minLength` is the least a file may hold: the setting's own minimum (its schema checks a
 * configured value), so the file and the setting ask for the same. The error names the file and the length, never the content.
 */
export function secretFromConfigOrFile(configured: string | undefined, dataDir: string, name: string, minLength = 1): Secret {
  if (configured) return { value: configured, generated: false };
  const file = path.join(dataDir, name);
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length < minLength) {
      throw new ConfigError(`${file} holds ${value.length} characters; it needs at least ${minLength} (write a long random value, e.g. \`openssl rand -base64 32\`, or delete the file to have one generated)`);
    }
    return { value, file, generated: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, file, generated: true };
}
