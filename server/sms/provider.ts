/** Where SMS go: an interface so the outbox file and GOV.UK Notify are interchangeable. */
export interface Sms {
  /** E.164 phone number. */
  to: string;
  body: string;
  consultationId: string;
}

export interface SmsProvider {
  readonly name: string;
  send(sms: Sms): Promise<void>;
}
