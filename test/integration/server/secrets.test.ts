/**
 * A secret file in DATA_DIR that is empty or short stops the service at start, naming the file:
 * an empty session secret would be an empty HMAC key, with which anyone could sign a session.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from '../../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dataDirWith(file: string, content: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'openconsult-secrets-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, file), content, { mode: 0o600 });
  return dir;
}

describe('secrets read from DATA_DIR', () => {
  it('refuses to start with an empty session-secret file, naming it', async () => {
    const dataDir = dataDirWith('session-secret', '\n');
    await expect(startServer({ dataDir })).rejects.toThrow(`${path.join(dataDir, 'session-secret')} holds 0 characters; it needs at least 32`);
  });

  it('refuses a short session-secret file and never prints its content', async () => {
    const dataDir = dataDirWith('session-secret', 'hunter2-short\n');
    const err = await startServer({ dataDir }).then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toContain(path.join(dataDir, 'session-secret'));
    expect(err?.message).not.toContain('hunter2');
  });

  it('refuses a short api-key file when API_KEY is not set', async () => {
    const dataDir = dataDirWith('api-key', 'abc');
    await expect(startServer({ dataDir, apiKey: undefined })).rejects.toThrow(`${path.join(dataDir, 'api-key')} holds 3 characters; it needs at least 24`);
  });

  it('starts with a long enough secret file', async () => {
    const dataDir = dataDirWith('session-secret', `${'k'.repeat(43)}\n`);
    const server = await startServer({ dataDir });
    try {
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
