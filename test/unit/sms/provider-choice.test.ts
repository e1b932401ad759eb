import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../config/load.js';
import type { SettingKey } from '../../../config/settings.js';
import { createLogger } from '../../../server/log.js';
import { createSmsProvider } from '../../../server/sms/index.js';
import { NotifySms } from '../../../server/sms/notify.js';
import { OutboxSms } from '../../../server/sms/outbox.js';

const SERVICE_ID = '26785a09-ab16-4eb0-8407-a37497a57506';
const SECRET = '3d844edf-8d35-48ac-975b-e847b4f122b0';
const API_KEY = `my_test_key-${SERVICE_ID}-${SECRET}`;
const TEMPLATE_ID = 'f33517ff-2a88-4f6e-b855-c550268ce08a';
const logger = createLogger('silent');

// Neither provider touches the disk or the network until it sends.
const config = (overrides: Partial<Record<SettingKey, unknown>>) =>
  loadConfig({ env: {}, overrides: { dataDir: '/nonexistent/openconsult', ...overrides } });

describe('createSmsProvider', () => {
  it('uses the outbox file by default', () => {
    const sms = createSmsProvider(config({}), logger);
    expect(sms).toBeInstanceOf(OutboxSms);
    expect(sms.name).toBe('outbox');
  });

  it('uses GOV.UK Notify when SMS_PROVIDER is notify', () => {
    const sms = createSmsProvider(config({ smsProvider: 'notify', notifyApiKey: API_KEY, notifyTemplateId: TEMPLATE_ID }), logger);
    expect(sms).toBeInstanceOf(NotifySms);
    expect(sms.name).toBe('notify');
  });
});

describe('NotifySms settings', () => {
  it('refuses an API key not in Notify\'s format without repeating it', () => {
    const apiKey = 'not-a-notify-key-0123456789';
    let message = '';
    try {
      new NotifySms({ apiKey, templateId: TEMPLATE_ID });
    } catch (err) {
      message = err instanceof Error ? err.message : String(err);
    }
    expect(message).toMatch(/^NOTIFY_API_KEY is not a GOV\.UK Notify API key/);
    expect(message).not.toContain(apiKey);
  });

  it('refuses a template id that is not a UUID', () => {
    expect(() => new NotifySms({ apiKey: API_KEY, templateId: 'invitation' })).toThrow(/NOTIFY_TEMPLATE_ID/);
  });

  it('refuses a base URL that the client would mistake for a service id', () => {
    expect(() => new NotifySms({ apiKey: API_KEY, templateId: TEMPLATE_ID, baseUrl: 'api.notifications.service.gov.uk' }))
      .toThrow(/NOTIFY_BASE_URL/);
  });
});
