/**
 * UK mobile numbers, as a receptionist might type them ("07700 900123", "+44 7700 900123",
 * "(0)7700-900123"), normalised to E.164 (+447700900123). Landlines cannot receive the SMS.
 */
export type PhoneResult = { ok: true; e164: string } | { ok: false; message: string };

export function normaliseUkMobile(input: string): PhoneResult {
  const compact = input.replace(/[\s\-().]/g, '');
  let national: string | undefined;
  if (/^\+447\d{9}$/.test(compact)) national = compact.slice(3);
  else if (/^00447\d{9}$/.test(compact)) national = compact.slice(4);
  else if (/^447\d{9}$/.test(compact)) national = compact.slice(2);
  else if (/^\+440?7\d{9}$/.test(compact)) national = compact.slice(compact.length - 10);
  else if (/^07\d{9}$/.test(compact)) national = compact.slice(1);
  if (!national) {
    return {
      ok: false,
      message: 'Enter a UK mobile number, like 07700 900123 or +44 7700 900123. Landline numbers cannot receive text messages.',
    };
  }
  return { ok: true, e164: `+44${national}` };
}

/** For logs and screens that must not show the number: "•••• 123". */
export function maskPhone(e164: string): string {
  return `•••• ${e164.slice(-3)}`;
}
