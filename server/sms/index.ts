/** Picks the SMS provider the configuration names. */
import type { Config } from '../../config/settings.js';
import type { Logger } from '../log.js';
import { NotifySms } from './notify.js';
import { OutboxSms } from './outbox.js';
import type { SmsProvider } from './provider.js';

export type { Sms, SmsProvider } from './provider.js';
export { NotifyError, NotifySms } from './notify.js';
export { OutboxSms } from './outbox.js';

export function createSmsProvider(config: Config, logger: Logger): SmsProvider {
  switch (config.smsProvider) {
    case 'outbox':
      return new OutboxSms(config.smsOutboxFile);
    case 'notify': {
      // config/load.ts already refuses this combination; checked again so the types narrow.
      if (!config.notifyApiKey || !config.notifyTemplateId) {
        throw new Error('SMS_PROVIDER=notify needs NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID');
      }
      return new NotifySms({
        apiKey: config.notifyApiKey,
        templateId: config.notifyTemplateId,
        baseUrl: config.notifyBaseUrl,
        logger,
      });
    }
  }
}
