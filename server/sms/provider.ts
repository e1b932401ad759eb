/** Where SMS go: an interface so the outbox file and GOV.UK Notify are interchangeable. */
export interface Sms {
  /** E.164 phone number. */
  to: string;
  /** The whole text, as the outbox writes it and as a Notify template of just ((body)) sends it. */
  body: string;
  consultationId: string;
  /** The parts of the text, for Notify templates written with their own wording. */
  personalisation: { practice_name: string; link: string };
  /** The practice's own Notify template, instead of NOTIFY_TEMPLATE_ID (providers without templates ignore it). */
  templateId?: string | undefined;
}

/** What a provider tells of a text it took: an id to follow its delivery by, when it has one. */
export interface SentSms {
  notificationId?: string | undefined;
}

export interface SmsProvider {
  readonly name: string;
  send(sms: Sms): Promise<SentSms | void>;
  /** The provider's own word for what became of a text (Notify: `delivered`, ...); absent where it cannot tell. */
  deliveryOf?(notificationId: string): Promise<string>;
}
