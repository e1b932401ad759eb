/**
 * Secrets the operator did not set are generated once into DATA_DIR (mode 0600) and reused, so
 * sessions and the API key survive restarts and upgrades.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Secret {
  value: string;
  /** Where it was generated or read from; undefined when it came from config. */
  file?: string;
  generated: boolean;
}

export function secretFromConfigOrFile(configured: string | undefined, dataDir: string, name: string): Secret {
  if (configured) return { value: configured, generated: false };
  const file = path.join(dataDir, name);
  if (existsSync(file)) return { value: readFileSync(file, 'utf8').trim(), file, generated: false };
  mkdirSync(dataDir, { recursive: true });
  const value = randomBytes(32).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  return { value, file, generated: true };
}
