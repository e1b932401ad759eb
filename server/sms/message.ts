/**
 * The invitation SMS. It must fit one 160-character GSM-7 fragment for a 30-character base URL
 * (design.md 3), so it stays plain: practice name, what it is, the link, that it works once.
 */
export function invitationText(practiceName: string, url: string): string {
  return `${practiceName}: join your video consultation at ${url} (link works once)`;
}

// GSM 03.38 basic set; characters outside it force UCS-2 (70 characters a fragment).
const GSM7 = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM7_EXTENDED = new Set('^{}\\[~]|€');

/** Length in GSM-7 septets, or undefined when the text needs UCS-2. */
export function gsm7Length(text: string): number | undefined {
  let n = 0;
  for (const ch of text) {
    if (GSM7.has(ch)) n += 1;
    else if (GSM7_EXTENDED.has(ch)) n += 2;
    else return undefined;
  }
  return n;
}
