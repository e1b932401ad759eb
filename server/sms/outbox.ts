/**
 * The `outbox` provider: appends each SMS as one JSON line to a file, for development, tests
 * and practices that send messages another way. The file holds personal data: created 0600.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Sms, SmsProvider } from './provider.js';

export class OutboxSms implements SmsProvider {
  readonly name = 'outbox';
  private ready: Promise<unknown> | undefined;

  constructor(private readonly file: string) {}

  async send(sms: Sms): Promise<void> {
    this.ready ??= mkdir(path.dirname(this.file), { recursive: true });
    await this.ready;
    const line = JSON.stringify({ to: sms.to, body: sms.body, consultationId: sms.consultationId, sentAt: new Date().toISOString() });
    await appendFile(this.file, `${line}\n`, { mode: 0o600 });
  }
}
