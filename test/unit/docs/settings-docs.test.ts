/** The documentation of settings is generated from the schema, and the samples really load. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../config/load.js';
import { projectRoot } from '../../../server/paths.js';
import { readmePath, readmeWithTable } from '../../../scripts/settings-table.js';

const contractEnv = [
  'PORT', 'HOST', 'PUBLIC_URL', 'DATA_DIR', 'API_KEY', 'SMS_PROVIDER', 'SMS_OUTBOX_FILE', 'NOTIFY_API_KEY',
  'NOTIFY_TEMPLATE_ID', 'NOTIFY_BASE_URL', 'TURN_URLS', 'TURN_SECRET', 'RTC_MIN_PORT', 'RTC_MAX_PORT',
  'ANNOUNCED_ADDRESS', 'LOG_LEVEL', 'LINK_TTL', 'WAITING_TIMEOUT', 'MAX_CALL_DURATION', 'EMPTY_ROOM_GRACE', 'RECONNECT_GRACE',
];

describe('settings documentation', () => {
  const readme = readFileSync(readmePath, 'utf8');

  it('has the README table generated from the settings schema (run scripts/settings-table.ts --write)', () => {
    expect(readme).toBe(readmeWithTable(readme));
  });

  it('documents every environment variable of the public contract', () => {
    for (const name of contractEnv) expect(readme).toContain(`| \`${name}\` |`);
  });

  it('ships a JSON sample that loads', () => {
    const config = loadConfig({ env: {}, file: path.join(projectRoot, 'config', 'openconsult.sample.json') });
    expect(config.linkTtl).toBe(24 * 3600);
    expect(config.publicUrl).toBe('https://video.example-practice.nhs.uk');
  });

  it('ships an environment sample that loads', () => {
    const env: Record<string, string> = {};
    for (const line of readFileSync(path.join(projectRoot, 'config', 'openconsult.sample.env'), 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line);
      if (m) env[m[1] as string] = m[2] as string;
    }
    const config = loadConfig({ env });
    expect(config.waitingTimeout).toBe(30 * 60);
    expect(config.practiceName).toBe('Riverside Surgery');
  });
});
