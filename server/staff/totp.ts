/**
 * The second factor of local accounts: TOTP (RFC 6238) through otplib, 30-second steps, 6 digits,
 * one step either side for clocks that drift. A code works once: the step it matched is kept on
 * the user (`lastTotpStep`) and no step up to it is accepted again. The clock is passed in.
 */
import { generate, generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

const PERIOD = 30;
const DIGITS = 6;
const ISSUER = 'Video consultations';

export const TOTP_CODE = /^\d{6}$/;
/** A secret as generateSecret makes it (160 bits, base32). */
export const TOTP_SECRET = /^[A-Z2-7]{32}$/;

export const newTotpSecret = (): string => generateSecret();

/** The time step a code would match, `lastTotpStep`'s unit. */
export const stepAt = (nowMs: number): number => Math.floor(nowMs / 1000 / PERIOD);

/** The step `code` matches at `nowMs` (within one step), if it is later than `lastStep`. */
export async function checkTotp(secret: string, code: string, nowMs: number, lastStep: number | null): Promise<number | undefined> {
  if (!TOTP_CODE.test(code)) return undefined;
  const result = await verify({
    secret, token: code, period: PERIOD, digits: DIGITS, epoch: Math.floor(nowMs / 1000), epochTolerance: PERIOD,
    ...(lastStep !== null ? { afterTimeStep: lastStep } : {}),
  }).catch(() => ({ valid: false as const }));
  // delta: how many steps from now's the code matched (-1, 0 or 1).
  return result.valid ? stepAt(nowMs) + result.delta : undefined;
}

/** The code an authenticator app shows at `nowMs` (tests, and nothing else, need it). */
export const totpAt = (secret: string, nowMs: number): Promise<string> =>
  generate({ secret, period: PERIOD, digits: DIGITS, epoch: Math.floor(nowMs / 1000) });

/** What an authenticator app scans: the otpauth:// URI and it as an SVG QR code. */
export async function enrolment(secret: string, label: string): Promise<{ uri: string; qrSvg: string }> {
  const uri = generateURI({ issuer: ISSUER, label, secret, period: PERIOD, digits: DIGITS });
  const qrSvg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return { uri, qrSvg };
}
